// Concat of float tensors along `axis` (opsets 4-21).
#include <cstring>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

class Concat final : public Op {
 public:
  explicit Concat(int64_t axis) : axis_(axis) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    for (size_t i = 0; i < inputs.size(); ++i) DIM_RETURN_IF_ERROR(RequireFloat(inputs, i));
    const Shape& first = inputs[0].shape;
    DIM_ASSIGN_OR_RETURN(axis_, NormalizeAxis(axis_, static_cast<int64_t>(first.size())));
    const size_t axis = static_cast<size_t>(axis_);
    Shape y = first;
    for (size_t i = 1; i < inputs.size(); ++i) {
      const Shape& s = inputs[i].shape;
      bool same = s.size() == first.size();
      for (size_t d = 0; same && d < s.size(); ++d) same = d == axis || s[d] == first[d];
      if (!same) {
        return Status::InvalidArgument("shape mismatch: '" + inputs[0].name + "' is " +
                                       ShapeToString(first) + " but '" + inputs[i].name + "' is " +
                                       ShapeToString(s));
      }
      if (y[axis].power != s[axis].power || y[axis].factor > kMaxDimension - s[axis].factor) {
        return Status::InvalidArgument("cannot concatenate " + ShapeToString(first) + " and " +
                                       ShapeToString(s) + " along axis " + std::to_string(axis_));
      }
      y[axis].factor += s[axis].factor;
    }
    return std::vector<ValueInfo>{FloatValue(std::move(y))};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    std::vector<int64_t> shape = inputs[0].shape();
    if (axis_ >= static_cast<int64_t>(shape.size())) return Status::Internal("axis out of range");
    const size_t axis = static_cast<size_t>(axis_);
    shape[axis] = 0;
    for (size_t i = 0; i < inputs.size(); ++i) shape[axis] += inputs[i].dim(axis_);
    int64_t outer = 1;
    for (size_t d = 0; d < axis; ++d) outer *= shape[d];
    Tensor y = Tensor::Uninitialized(shape);
    float* dst = y.data();
    for (int64_t o = 0; o < outer; ++o) {
      for (size_t i = 0; i < inputs.size(); ++i) {
        const Tensor& x = inputs[i];
        const int64_t chunk = outer == 0 ? 0 : x.size() / outer;
        if (chunk > 0)
          std::memcpy(dst, x.data() + o * chunk, static_cast<size_t>(chunk) * sizeof(float));
        dst += chunk;
      }
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

  bool MixesRows() const override { return axis_ == 0; }

  OpSpec spec() const override {
    OpSpec s;
    s.kind = OpSpec::Kind::kConcat;
    s.axis = axis_;
    return s;
  }

 private:
  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Op>> MakeConcat(const onnx::NodeProto& node, int64_t) {
  const NodeAttributes attrs(node);
  if (!attrs.Has("axis")) return Status::InvalidArgument("attribute 'axis' is required");
  DIM_ASSIGN_OR_RETURN(const int64_t axis, attrs.Int("axis", 0));
  return std::unique_ptr<Op>(std::make_unique<Concat>(axis));
}

}  // namespace dim::core
