// Flatten: [d0..dn) -> [d0*..*d(axis-1), d(axis)*..*d(n-1)], axis in [-r, r], default 1.
#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

class Flatten final : public ReshapeOp {
 public:
  explicit Flatten(int64_t axis) : axis_(axis) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    const Shape& x = inputs[0].shape;
    DIM_ASSIGN_OR_RETURN(axis_, NormalizeAxis(axis_, static_cast<int64_t>(x.size()), true));
    DIM_ASSIGN_OR_RETURN(const Dim outer, DimProduct(x, 0, static_cast<size_t>(axis_)));
    DIM_ASSIGN_OR_RETURN(const Dim inner, DimProduct(x, static_cast<size_t>(axis_), x.size()));
    return std::vector<ValueInfo>{FloatValue({outer, inner})};
  }

 private:
  std::vector<int64_t> Reshaped(const std::vector<int64_t>& x) const override {
    const int64_t rank = static_cast<int64_t>(x.size());
    int64_t outer = 1;
    for (int64_t i = 0; i < axis_ && i < rank; ++i) outer *= x[static_cast<size_t>(i)];
    int64_t inner = 1;
    for (int64_t i = axis_; i < rank; ++i) inner *= x[static_cast<size_t>(i)];
    return {outer, inner};
  }

  int64_t axis_;
};

}  // namespace

Result<std::unique_ptr<Op>> MakeFlatten(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const int64_t axis, NodeAttributes(node).Int("axis", 1));
  return std::unique_ptr<Op>(std::make_unique<Flatten>(axis));
}

}  // namespace dim::core
