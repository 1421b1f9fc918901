// ReduceSum, ReduceMean, ReduceMax and ReduceMin over some axes (all of them when none are
// given, unless noop_with_empty_axes), keeping them as size 1 unless keepdims=0 (opsets
// 1-21; the axes are an input from opset 13 for ReduceSum, 18 for the others).
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/axes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

enum class Reduction { kSum, kMean, kMax, kMin };

class Reduce final : public Op {
 public:
  Reduce(Reduction kind, std::optional<std::vector<int64_t>> axes, bool axes_from_input,
         bool keep_dims, bool noop_with_empty_axes)
      : kind_(kind),
        attribute_axes_(std::move(axes)),
        axes_from_input_(axes_from_input),
        keep_dims_(keep_dims),
        noop_(noop_with_empty_axes) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    const Shape& x = inputs[0].shape;
    const int64_t rank = static_cast<int64_t>(x.size());
    DIM_ASSIGN_OR_RETURN(const std::optional<std::vector<int64_t>> axes,
                         ReadAxes(inputs, attribute_axes_, axes_from_input_));
    reduced_.assign(x.size(), false);
    if (!axes.has_value() || axes->empty()) {
      identity_ = noop_;
      if (!noop_) reduced_.assign(x.size(), true);
    } else {
      DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> normal, NormalizeAxes(*axes, rank));
      for (int64_t a : normal) reduced_[static_cast<size_t>(a)] = true;
    }
    Shape y;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!reduced_[i]) {
        y.push_back(x[i]);
      } else {
        if ((kind_ == Reduction::kMax || kind_ == Reduction::kMin) && x[i] == Dim::Known(0)) {
          return Status::InvalidArgument("cannot take the max or min over an empty axis");
        }
        if (keep_dims_) y.push_back(Dim::Known(1));
      }
    }
    mixes_rows_ = !x.empty() && reduced_[0];
    return std::vector<ValueInfo>{FloatValue(std::move(y))};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    if (identity_) {
      outputs[0] = inputs.Take(0);
      return Status::Ok();
    }
    const Tensor& x = inputs[0];
    const std::vector<int64_t>& dims = x.shape();
    std::vector<int64_t> kept;  // The output's shape with kept dimensions.
    std::vector<int64_t> y_shape;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (!reduced_[i]) {
        kept.push_back(dims[i]);
        y_shape.push_back(dims[i]);
      } else if (keep_dims_) {
        y_shape.push_back(1);
      }
    }
    Tensor y = Tensor::Uninitialized(y_shape);
    constexpr float kInf = std::numeric_limits<float>::infinity();
    const float init = kind_ == Reduction::kMax ? -kInf : kind_ == Reduction::kMin ? kInf : 0.0f;
    std::fill(y.data(), y.data() + y.size(), init);
    // Output strides per input dimension (0 along reduced ones).
    std::vector<int64_t> stride(dims.size(), 0);
    int64_t s = 1;
    for (size_t i = dims.size(); i-- > 0;) {
      if (reduced_[i]) continue;
      stride[i] = s;
      s *= dims[i];
    }
    std::vector<int64_t> index(dims.size(), 0);
    int64_t out = 0;
    for (int64_t e = 0; e < x.size(); ++e) {
      const float v = x.data()[e];
      float& acc = y.data()[out];
      switch (kind_) {
        case Reduction::kSum:
        case Reduction::kMean:
          acc += v;
          break;
        case Reduction::kMax:  // A NaN stays: the reduction of a row holding one is NaN.
          acc = std::isnan(acc) || !(std::isnan(v) || v > acc) ? acc : v;
          break;
        case Reduction::kMin:
          acc = std::isnan(acc) || !(std::isnan(v) || v < acc) ? acc : v;
          break;
      }
      for (size_t d = dims.size(); d-- > 0;) {
        out += stride[d];
        if (++index[d] < dims[d]) break;
        out -= stride[d] * dims[d];
        index[d] = 0;
      }
    }
    if (kind_ == Reduction::kMean && y.size() > 0) {
      const float count = static_cast<float>(x.size() / y.size());
      for (int64_t i = 0; i < y.size(); ++i) y.data()[i] /= count;
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

  bool MixesRows() const override { return mixes_rows_; }

 private:
  Reduction kind_;
  std::optional<std::vector<int64_t>> attribute_axes_;
  bool axes_from_input_;
  bool keep_dims_;
  bool noop_;
  bool identity_ = false;
  bool mixes_rows_ = false;
  std::vector<bool> reduced_;
};

Result<std::unique_ptr<Op>> MakeReduce(Reduction kind, const onnx::NodeProto& node, int64_t opset,
                                       int64_t input_opset) {
  const NodeAttributes attrs(node);
  std::optional<std::vector<int64_t>> axes;
  if (attrs.Has("axes")) {
    DIM_ASSIGN_OR_RETURN(axes, attrs.Ints("axes"));
  }
  DIM_ASSIGN_OR_RETURN(const int64_t keep_dims, attrs.Int("keepdims", 1));
  DIM_ASSIGN_OR_RETURN(const int64_t noop, attrs.Int("noop_with_empty_axes", 0));
  const bool from_input = opset >= input_opset;
  if (!from_input && node.input_size() > 1) {
    return Status::InvalidArgument("takes its axes as an attribute before opset " +
                                   std::to_string(input_opset));
  }
  return std::unique_ptr<Op>(
      std::make_unique<Reduce>(kind, std::move(axes), from_input, keep_dims != 0, noop != 0));
}

}  // namespace

Result<std::unique_ptr<Op>> MakeReduceSum(const onnx::NodeProto& node, int64_t opset) {
  return MakeReduce(Reduction::kSum, node, opset, 13);
}
Result<std::unique_ptr<Op>> MakeReduceMean(const onnx::NodeProto& node, int64_t opset) {
  return MakeReduce(Reduction::kMean, node, opset, 18);
}
Result<std::unique_ptr<Op>> MakeReduceMax(const onnx::NodeProto& node, int64_t opset) {
  return MakeReduce(Reduction::kMax, node, opset, 18);
}
Result<std::unique_ptr<Op>> MakeReduceMin(const onnx::NodeProto& node, int64_t opset) {
  return MakeReduce(Reduction::kMin, node, opset, 18);
}

}  // namespace dim::core
