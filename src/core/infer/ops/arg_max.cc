// ArgMax along `axis` (default 0), keeping it as size 1 unless keepdims=0; ties go to the
// first index unless select_last_index=1 (opsets 1-21). The int64 indices are carried as
// float32 values, exact below 2^24.
#include <algorithm>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

class ArgMax final : public Op {
 public:
  ArgMax(int64_t axis, bool keep_dims, bool last)
      : axis_(axis), keep_dims_(keep_dims), last_(last) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    Shape y = inputs[0].shape;
    DIM_ASSIGN_OR_RETURN(axis_, NormalizeAxis(axis_, static_cast<int64_t>(y.size())));
    const size_t axis = static_cast<size_t>(axis_);
    if (y[axis] == Dim::Known(0)) return Status::InvalidArgument("axis has size 0");
    if (keep_dims_) {
      y[axis] = Dim::Known(1);
    } else {
      y.erase(y.begin() + static_cast<std::ptrdiff_t>(axis));
    }
    ValueInfo v = FloatValue(std::move(y));
    v.type = DType::kInt64;
    return std::vector<ValueInfo>{std::move(v)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    const Tensor& x = inputs[0];
    if (axis_ >= x.rank()) return Status::Internal("axis out of range");
    std::vector<int64_t> shape = x.shape();
    int64_t outer = 1;
    for (int64_t d = 0; d < axis_; ++d) outer *= x.dim(d);
    const int64_t len = x.dim(axis_);
    const int64_t inner = len == 0 || outer == 0 ? 0 : x.size() / (outer * len);
    if (keep_dims_) {
      shape[static_cast<size_t>(axis_)] = 1;
    } else {
      shape.erase(shape.begin() + static_cast<std::ptrdiff_t>(axis_));
    }
    Tensor y = Tensor::Uninitialized(std::move(shape));
    std::fill(y.data(), y.data() + y.size(), 0.0f);
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < inner; ++i) {
        const float* base = x.data() + o * len * inner + i;
        int64_t best = 0;
        for (int64_t k = 1; k < len; ++k) {
          const float v = base[k * inner];
          const float b = base[best * inner];
          if (v > b || (last_ && v == b)) best = k;
        }
        y.data()[o * inner + i] = static_cast<float>(best);
      }
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

  bool MixesRows() const override { return axis_ == 0; }

  // keepdims needs no field: it only changes the output's shape, which the plan holds.
  OpSpec spec() const override {
    OpSpec s;
    s.kind = OpSpec::Kind::kArgMax;
    s.axis = axis_;
    s.last_index = last_;
    return s;
  }

 private:
  int64_t axis_;
  bool keep_dims_;
  bool last_;
};

}  // namespace

Result<std::unique_ptr<Op>> MakeArgMax(const onnx::NodeProto& node, int64_t) {
  const NodeAttributes attrs(node);
  DIM_ASSIGN_OR_RETURN(const int64_t axis, attrs.Int("axis", 0));
  DIM_ASSIGN_OR_RETURN(const int64_t keep_dims, attrs.Int("keepdims", 1));
  DIM_ASSIGN_OR_RETURN(const int64_t last, attrs.Int("select_last_index", 0));
  return std::unique_ptr<Op>(std::make_unique<ArgMax>(axis, keep_dims != 0, last != 0));
}

}  // namespace dim::core
