// The ai.onnx.ml feature transforms (opset 1) over [N, F] rows: Scaler, Normalizer,
// Imputer, Binarizer, ArrayFeatureExtractor (constant indices) and ZipMap, whose map
// output the engine reads as the probability tensor it is made from.
#include <algorithm>
#include <cmath>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/ml_common.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

// The input's row width: [N, F] with F known.
Result<int64_t> RowsOf(const std::vector<ValueInfo>& inputs) {
  DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
  const Shape& x = inputs[0].shape;
  if (x.size() != 2 || !x[1].known()) {
    return Status::InvalidArgument("input '" + inputs[0].name + "' has shape " + ShapeToString(x) +
                                   "; it must be [N, features]");
  }
  return x[1].factor;
}

// A per-feature parameter: one value for every feature, or one per feature.
Status CheckPerFeature(const char* name, const std::vector<float>& values, int64_t width,
                       bool required) {
  if (values.empty() && !required) return Status::Ok();
  if (values.size() == 1 || static_cast<int64_t>(values.size()) == width) return Status::Ok();
  return Status::InvalidArgument("attribute '" + std::string(name) + "' has " +
                                 std::to_string(values.size()) + " values; the input has " +
                                 std::to_string(width) + " features");
}

float At(const std::vector<float>& values, int64_t j, float fallback) {
  if (values.empty()) return fallback;
  return values.size() == 1 ? values[0] : values[static_cast<size_t>(j)];
}

// y = f(x, feature) element by element, in place at the input's last use.
template <typename F>
class RowMap final : public Op {
 public:
  explicit RowMap(F fn) : fn_(std::move(fn)) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_ASSIGN_OR_RETURN(width_, RowsOf(inputs));
    DIM_RETURN_IF_ERROR(fn_.Check(width_));
    return std::vector<ValueInfo>{FloatValue(inputs[0].shape)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    Tensor t = inputs.Take(0);
    const int64_t rows = t.dim(0);
    for (int64_t r = 0; r < rows; ++r) fn_(t.data() + r * width_, width_);
    outputs[0] = std::move(t);
    return Status::Ok();
  }

 private:
  F fn_;
  int64_t width_ = 0;
};

struct ScalerFn {
  std::vector<float> offset;
  std::vector<float> scale;
  Status Check(int64_t width) const {
    DIM_RETURN_IF_ERROR(CheckPerFeature("offset", offset, width, false));
    return CheckPerFeature("scale", scale, width, false);
  }
  void operator()(float* x, int64_t width) const {
    for (int64_t j = 0; j < width; ++j) x[j] = (x[j] - At(offset, j, 0.0f)) * At(scale, j, 1.0f);
  }
};

enum class Norm { kMax, kL1, kL2 };
struct NormalizerFn {
  Norm norm;
  Status Check(int64_t) const { return Status::Ok(); }
  void operator()(float* x, int64_t width) const {
    if (width == 0) return;
    float d = 0;
    switch (norm) {
      case Norm::kMax:
        d = *std::max_element(x, x + width);
        break;
      case Norm::kL1:
        for (int64_t j = 0; j < width; ++j) d += std::abs(x[j]);
        break;
      case Norm::kL2:
        for (int64_t j = 0; j < width; ++j) d += x[j] * x[j];
        d = std::sqrt(d);
        break;
    }
    if (d == 0) return;
    for (int64_t j = 0; j < width; ++j) x[j] /= d;
  }
};

struct ImputerFn {
  std::vector<float> imputed;
  float replaced;
  Status Check(int64_t width) const {
    return CheckPerFeature("imputed_value_floats", imputed, width, true);
  }
  void operator()(float* x, int64_t width) const {
    const bool nan = std::isnan(replaced);
    for (int64_t j = 0; j < width; ++j) {
      if (nan ? std::isnan(x[j]) : x[j] == replaced) x[j] = At(imputed, j, 0.0f);
    }
  }
};

struct BinarizerFn {
  float threshold;
  Status Check(int64_t) const { return Status::Ok(); }
  void operator()(float* x, int64_t width) const {
    for (int64_t j = 0; j < width; ++j) x[j] = x[j] > threshold ? 1.0f : 0.0f;
  }
};

template <typename F>
Result<std::unique_ptr<Op>> Make(F fn) {
  return std::unique_ptr<Op>(std::make_unique<RowMap<F>>(std::move(fn)));
}

// Y[..., i] = X[..., indices[i]] along the last axis; the indices are a constant.
class ArrayFeatureExtractor final : public Op {
 public:
  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_ASSIGN_OR_RETURN(width_, RowsOf(inputs));
    const ValueInfo& indices = inputs[1];
    if (indices.ints == nullptr) {
      return Status::InvalidArgument("input '" + indices.name +
                                     "' (the indices) must be an int64 constant");
    }
    indices_ = *indices.ints;
    if (indices_.empty()) return Status::InvalidArgument("the indices are empty");
    for (int64_t i : indices_) {
      if (i < 0 || i >= width_) {
        return Status::InvalidArgument("index " + std::to_string(i) + " is out of range for " +
                                       std::to_string(width_) + " features");
      }
    }
    return std::vector<ValueInfo>{
        FloatValue({inputs[0].shape[0], Dim::Known(static_cast<int64_t>(indices_.size()))})};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    const int64_t rows = x.dim(0);
    const int64_t k = static_cast<int64_t>(indices_.size());
    Tensor y = Tensor::Uninitialized({rows, k});
    for (int64_t r = 0; r < rows; ++r) {
      const float* in = x.data() + r * width_;
      float* out = y.data() + r * k;
      for (int64_t i = 0; i < k; ++i) out[i] = in[indices_[static_cast<size_t>(i)]];
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  int64_t width_ = 0;
  std::vector<int64_t> indices_;
};

// ZipMap turns [N, C] probabilities into one map per row, keyed by class label; the
// engine keeps the tensor, in the order of the labels, which is what such maps hold.
class ZipMap final : public PassThroughOp {
 public:
  explicit ZipMap(size_t labels) : labels_(labels) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_ASSIGN_OR_RETURN(const int64_t width, RowsOf(inputs));
    if (width != static_cast<int64_t>(labels_)) {
      return Status::InvalidArgument("input '" + inputs[0].name + "' has " + std::to_string(width) +
                                     " columns for " + std::to_string(labels_) + " class labels");
    }
    return std::vector<ValueInfo>{FloatValue(inputs[0].shape)};
  }

 private:
  size_t labels_;
};

}  // namespace

Result<std::unique_ptr<Op>> MakeScaler(const onnx::NodeProto& node, int64_t) {
  const NodeAttributes attrs(node);
  ScalerFn fn;
  DIM_ASSIGN_OR_RETURN(fn.offset, attrs.Floats("offset"));
  DIM_ASSIGN_OR_RETURN(fn.scale, attrs.Floats("scale"));
  return Make(std::move(fn));
}

Result<std::unique_ptr<Op>> MakeNormalizer(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const std::string norm, NodeAttributes(node).String("norm", "MAX"));
  if (norm == "MAX") return Make(NormalizerFn{Norm::kMax});
  if (norm == "L1") return Make(NormalizerFn{Norm::kL1});
  if (norm == "L2") return Make(NormalizerFn{Norm::kL2});
  return Status::InvalidArgument("attribute 'norm' is '" + norm +
                                 "'; MAX, L1 and L2 are supported");
}

Result<std::unique_ptr<Op>> MakeImputer(const onnx::NodeProto& node, int64_t) {
  const NodeAttributes attrs(node);
  if (attrs.Has("imputed_value_int64s") || attrs.Has("replaced_value_int64")) {
    return Status::InvalidArgument(
        "attributes 'imputed_value_int64s' and 'replaced_value_int64' are not supported (the "
        "input is float32)");
  }
  ImputerFn fn;
  DIM_ASSIGN_OR_RETURN(fn.imputed, attrs.Floats("imputed_value_floats"));
  DIM_ASSIGN_OR_RETURN(fn.replaced, attrs.Float("replaced_value_float", 0.0f));
  if (fn.imputed.empty()) {
    return Status::InvalidArgument("attribute 'imputed_value_floats' is missing");
  }
  return Make(std::move(fn));
}

Result<std::unique_ptr<Op>> MakeBinarizer(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const float threshold, NodeAttributes(node).Float("threshold", 0.0f));
  return Make(BinarizerFn{threshold});
}

Result<std::unique_ptr<Op>> MakeArrayFeatureExtractor(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<ArrayFeatureExtractor>());
}

Result<std::unique_ptr<Op>> MakeZipMap(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const ClassLabels labels, ReadClassLabels(node));
  return std::unique_ptr<Op>(std::make_unique<ZipMap>(labels.ids.size()));
}

}  // namespace dim::core
