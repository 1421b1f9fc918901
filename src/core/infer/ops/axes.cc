#include "core/infer/ops/axes.h"

#include <algorithm>

namespace dim::core {

Result<std::optional<std::vector<int64_t>>> ReadAxes(
    const std::vector<ValueInfo>& inputs, const std::optional<std::vector<int64_t>>& attribute,
    bool from_input) {
  const bool has_input = inputs.size() > 1 && inputs[1].present();
  if (!from_input) {
    if (has_input) return Status::InvalidArgument("takes its axes as an attribute in this opset");
    return attribute;
  }
  if (attribute.has_value()) {
    return Status::InvalidArgument("takes its axes as an input in this opset, not an attribute");
  }
  if (!has_input) return std::optional<std::vector<int64_t>>();
  const ValueInfo& axes = inputs[1];
  if (axes.type != DType::kInt64 || axes.ints == nullptr || axes.shape.size() > 1) {
    return Status::InvalidArgument("axes '" + axes.name + "' must be a 1-D int64 constant");
  }
  return std::optional<std::vector<int64_t>>(*axes.ints);
}

Result<std::vector<int64_t>> NormalizeAxes(const std::vector<int64_t>& axes, int64_t rank) {
  std::vector<int64_t> out;
  for (int64_t a : axes) {
    DIM_ASSIGN_OR_RETURN(const int64_t axis, NormalizeAxis(a, rank));
    if (std::find(out.begin(), out.end(), axis) != out.end()) {
      return Status::InvalidArgument("axis " + std::to_string(a) + " is repeated");
    }
    out.push_back(axis);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace dim::core
