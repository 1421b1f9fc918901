// Operators that move or select values without arithmetic: Squeeze and Unsqueeze (axes an
// attribute before opset 13, an int64 constant input from 13), Transpose, Gather with
// constant indices (not along the batch) and Where (opsets 1-21). Squeeze and Unsqueeze
// only change the shape, so every backend runs them as a reshape.
#include <algorithm>
#include <numeric>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/axes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

ValueInfo Like(const ValueInfo& x, Shape shape) {
  ValueInfo v = FloatValue(std::move(shape));
  v.type = x.type;
  return v;
}

// x without the dimensions `marked`; for load-time shapes and run-time ones alike.
template <typename T>
std::vector<T> WithoutMarked(const std::vector<T>& x, const std::vector<bool>& marked) {
  std::vector<T> y;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!marked[i]) y.push_back(x[i]);
  }
  return y;
}

// x with `one` inserted where `inserted` is set (inserted has the output's rank).
template <typename T>
std::vector<T> WithInserted(const std::vector<T>& x, const std::vector<bool>& inserted, T one) {
  std::vector<T> y;
  size_t next = 0;
  for (bool in : inserted) y.push_back(in ? one : x[next++]);
  return y;
}

// Squeeze and Unsqueeze: a reshape by a mask over the axes the node names.
class AxesReshape : public ReshapeOp {
 public:
  AxesReshape(std::optional<std::vector<int64_t>> axes, bool from_input)
      : attribute_(std::move(axes)), from_input_(from_input) {}

 protected:
  // The axes the node names (nullopt: none), after checking input 0.
  Result<std::optional<std::vector<int64_t>>> Axes(const std::vector<ValueInfo>& inputs) const {
    DIM_RETURN_IF_ERROR(RequireNumeric(inputs, 0));
    return ReadAxes(inputs, attribute_, from_input_);
  }

  std::vector<bool> mask_;  // Squeeze: the axes dropped; Unsqueeze: the axes inserted.

 private:
  std::optional<std::vector<int64_t>> attribute_;
  bool from_input_;
};

class Squeeze final : public AxesReshape {
 public:
  using AxesReshape::AxesReshape;

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_ASSIGN_OR_RETURN(const std::optional<std::vector<int64_t>> axes, Axes(inputs));
    const Shape& x = inputs[0].shape;
    mask_.assign(x.size(), false);
    if (axes.has_value() && !axes->empty()) {
      DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> normal,
                           NormalizeAxes(*axes, static_cast<int64_t>(x.size())));
      for (int64_t a : normal) {
        if (!x[static_cast<size_t>(a)].IsOne()) {
          return Status::InvalidArgument("cannot squeeze axis " + std::to_string(a) + " of " +
                                         ShapeToString(x) + ": its size is not 1");
        }
        mask_[static_cast<size_t>(a)] = true;
      }
    } else {
      for (size_t i = 0; i < x.size(); ++i) mask_[i] = x[i].IsOne();
    }
    return std::vector<ValueInfo>{Like(inputs[0], WithoutMarked(x, mask_))};
  }

 private:
  std::vector<int64_t> Reshaped(const std::vector<int64_t>& x) const override {
    return WithoutMarked(x, mask_);
  }
};

class Unsqueeze final : public AxesReshape {
 public:
  using AxesReshape::AxesReshape;

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_ASSIGN_OR_RETURN(const std::optional<std::vector<int64_t>> axes, Axes(inputs));
    if (!axes.has_value() || axes->empty()) {
      return Status::InvalidArgument("needs the axes to insert");
    }
    const Shape& x = inputs[0].shape;
    const int64_t rank = static_cast<int64_t>(x.size() + axes->size());
    DIM_ASSIGN_OR_RETURN(const std::vector<int64_t> normal, NormalizeAxes(*axes, rank));
    mask_.assign(static_cast<size_t>(rank), false);
    for (int64_t a : normal) mask_[static_cast<size_t>(a)] = true;
    return std::vector<ValueInfo>{Like(inputs[0], WithInserted(x, mask_, Dim::Known(1)))};
  }

 private:
  std::vector<int64_t> Reshaped(const std::vector<int64_t>& x) const override {
    return WithInserted(x, mask_, int64_t{1});
  }
};

// Strides of a row-major shape.
std::vector<int64_t> Strides(const std::vector<int64_t>& dims) {
  std::vector<int64_t> strides(dims.size(), 1);
  for (size_t i = dims.size(); i-- > 1;) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

class Transpose final : public Op {
 public:
  explicit Transpose(std::vector<int64_t> perm) : perm_(std::move(perm)) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireNumeric(inputs, 0));
    const Shape& x = inputs[0].shape;
    if (perm_.empty()) {
      for (size_t i = x.size(); i-- > 0;) perm_.push_back(static_cast<int64_t>(i));
    }
    std::vector<int64_t> sorted = perm_;
    std::sort(sorted.begin(), sorted.end());
    std::vector<int64_t> identity(x.size());
    std::iota(identity.begin(), identity.end(), 0);
    if (sorted != identity) {
      return Status::InvalidArgument("attribute 'perm' is not a permutation of the " +
                                     std::to_string(x.size()) + " axes");
    }
    Shape y;
    for (int64_t p : perm_) y.push_back(x[static_cast<size_t>(p)]);
    return std::vector<ValueInfo>{Like(inputs[0], std::move(y))};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    const std::vector<int64_t>& dims = x.shape();
    const std::vector<int64_t> in_strides = Strides(dims);
    std::vector<int64_t> y_dims;
    std::vector<int64_t> step;  // Input stride per output dimension.
    for (int64_t p : perm_) {
      y_dims.push_back(dims[static_cast<size_t>(p)]);
      step.push_back(in_strides[static_cast<size_t>(p)]);
    }
    Tensor y = Tensor::Uninitialized(y_dims);
    std::vector<int64_t> index(y_dims.size(), 0);
    int64_t offset = 0;
    for (int64_t e = 0; e < y.size(); ++e) {
      y.data()[e] = x.data()[offset];
      for (size_t d = y_dims.size(); d-- > 0;) {
        offset += step[d];
        if (++index[d] < y_dims[d]) break;
        offset -= step[d] * y_dims[d];
        index[d] = 0;
      }
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

  bool MixesRows() const override { return !perm_.empty() && perm_[0] != 0; }

 private:
  std::vector<int64_t> perm_;
};

// Gather along a known axis with constant indices (negative ones count from the end).
class Gather final : public Op {
 public:
  explicit Gather(int64_t axis) : axis_(axis) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireNumeric(inputs, 0));
    const Shape& x = inputs[0].shape;
    const ValueInfo& indices = inputs[1];
    if (indices.ints == nullptr) {
      return Status::InvalidArgument("indices '" + indices.name + "' must be an int64 constant");
    }
    DIM_ASSIGN_OR_RETURN(axis_, NormalizeAxis(axis_, static_cast<int64_t>(x.size())));
    const Dim along = x[static_cast<size_t>(axis_)];
    if (!along.known() || (axis_ == 0 && x[0] == Dim::Batch())) {
      return Status::InvalidArgument("cannot gather along the batch axis");
    }
    indices_.clear();
    for (int64_t i : *indices.ints) {
      const int64_t k = i < 0 ? i + along.factor : i;
      if (k < 0 || k >= along.factor) {
        return Status::InvalidArgument("index " + std::to_string(i) + " is out of range for axis " +
                                       std::to_string(axis_) + " of size " +
                                       std::to_string(along.factor));
      }
      indices_.push_back(k);
    }
    index_dims_.clear();
    Shape y(x.begin(), x.begin() + axis_);
    for (const Dim& d : indices.shape) {
      y.push_back(d);
      index_dims_.push_back(d.factor);
    }
    y.insert(y.end(), x.begin() + axis_ + 1, x.end());
    return std::vector<ValueInfo>{Like(inputs[0], std::move(y))};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    const std::vector<int64_t>& dims = x.shape();
    int64_t outer = 1;
    for (int64_t d = 0; d < axis_; ++d) outer *= dims[static_cast<size_t>(d)];
    const int64_t along = dims[static_cast<size_t>(axis_)];
    int64_t inner = 1;
    for (size_t d = static_cast<size_t>(axis_) + 1; d < dims.size(); ++d) inner *= dims[d];
    std::vector<int64_t> y_dims(dims.begin(), dims.begin() + axis_);
    y_dims.insert(y_dims.end(), index_dims_.begin(), index_dims_.end());
    y_dims.insert(y_dims.end(), dims.begin() + axis_ + 1, dims.end());
    Tensor y = Tensor::Uninitialized(y_dims);
    const int64_t k = static_cast<int64_t>(indices_.size());
    float* out = y.data();
    for (int64_t o = 0; o < outer; ++o) {
      const float* base = x.data() + o * along * inner;
      for (int64_t i = 0; i < k; ++i) {
        std::copy_n(base + indices_[static_cast<size_t>(i)] * inner, inner, out);
        out += inner;
      }
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  int64_t axis_;
  std::vector<int64_t> indices_;
  std::vector<int64_t> index_dims_;
};

// Where(condition, X, Y) with the three shapes broadcast together.
class Where final : public Op {
 public:
  bool ReadsInt64ConstantsAsValues() const override { return true; }

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    for (size_t i = 0; i < 3; ++i) DIM_RETURN_IF_ERROR(RequireNumeric(inputs, i));
    if (inputs[0].type != DType::kBool) {
      return Status::InvalidArgument("condition '" + inputs[0].name + "' is " +
                                     std::string(DTypeName(inputs[0].type)) + "; it must be bool");
    }
    if (inputs[1].type != inputs[2].type) {
      return Status::InvalidArgument("inputs '" + inputs[1].name + "' and '" + inputs[2].name +
                                     "' have different types");
    }
    Result<Shape> xy = BroadcastShapes(inputs[1].shape, inputs[2].shape);
    if (!xy.ok()) return Status::InvalidArgument("shape mismatch: " + xy.status().message());
    Result<Shape> y = BroadcastShapes(inputs[0].shape, *xy);
    if (!y.ok()) return Status::InvalidArgument("shape mismatch: " + y.status().message());
    return std::vector<ValueInfo>{Like(inputs[1], std::move(*y))};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    size_t rank = 0;
    for (size_t i = 0; i < 3; ++i) rank = std::max(rank, static_cast<size_t>(inputs[i].rank()));
    std::vector<int64_t> out(rank, 1);
    std::vector<std::vector<int64_t>> step(3, std::vector<int64_t>(rank, 0));
    for (size_t i = 0; i < 3; ++i) {
      const std::vector<int64_t>& dims = inputs[i].shape();
      const size_t pad = rank - dims.size();
      for (size_t d = 0; d < dims.size(); ++d) {
        if (dims[d] != 1) {
          if (out[pad + d] != 1 && out[pad + d] != dims[d]) {
            return Status::Internal("shapes do not broadcast");
          }
          out[pad + d] = dims[d];
        }
      }
    }
    for (size_t i = 0; i < 3; ++i) {
      const std::vector<int64_t>& dims = inputs[i].shape();
      const size_t pad = rank - dims.size();
      const std::vector<int64_t> strides = Strides(dims);
      for (size_t d = 0; d < dims.size(); ++d) step[i][pad + d] = dims[d] == 1 ? 0 : strides[d];
    }
    Tensor y = Tensor::Uninitialized(out);
    const float* c = inputs[0].data();
    const float* a = inputs[1].data();
    const float* b = inputs[2].data();
    std::vector<int64_t> index(rank, 0);
    int64_t off[3] = {0, 0, 0};
    for (int64_t e = 0; e < y.size(); ++e) {
      y.data()[e] = c[off[0]] != 0.0f ? a[off[1]] : b[off[2]];
      for (size_t d = rank; d-- > 0;) {
        for (size_t i = 0; i < 3; ++i) off[i] += step[i][d];
        if (++index[d] < out[d]) break;
        for (size_t i = 0; i < 3; ++i) off[i] -= step[i][d] * out[d];
        index[d] = 0;
      }
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }
};

Result<std::optional<std::vector<int64_t>>> AttributeAxes(const onnx::NodeProto& node) {
  const NodeAttributes attrs(node);
  if (!attrs.Has("axes")) return std::optional<std::vector<int64_t>>();
  DIM_ASSIGN_OR_RETURN(std::vector<int64_t> axes, attrs.Ints("axes"));
  return std::optional<std::vector<int64_t>>(std::move(axes));
}

}  // namespace

Result<std::unique_ptr<Op>> MakeSqueeze(const onnx::NodeProto& node, int64_t opset) {
  DIM_ASSIGN_OR_RETURN(auto axes, AttributeAxes(node));
  return std::unique_ptr<Op>(std::make_unique<Squeeze>(std::move(axes), opset >= 13));
}

Result<std::unique_ptr<Op>> MakeUnsqueeze(const onnx::NodeProto& node, int64_t opset) {
  DIM_ASSIGN_OR_RETURN(auto axes, AttributeAxes(node));
  return std::unique_ptr<Op>(std::make_unique<Unsqueeze>(std::move(axes), opset >= 13));
}

Result<std::unique_ptr<Op>> MakeTranspose(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(std::vector<int64_t> perm, NodeAttributes(node).Ints("perm"));
  return std::unique_ptr<Op>(std::make_unique<Transpose>(std::move(perm)));
}

Result<std::unique_ptr<Op>> MakeGather(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const int64_t axis, NodeAttributes(node).Int("axis", 0));
  return std::unique_ptr<Op>(std::make_unique<Gather>(axis));
}

Result<std::unique_ptr<Op>> MakeWhere(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<Where>());
}

}  // namespace dim::core
