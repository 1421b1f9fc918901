#include "core/infer/op.h"

namespace dim::core {

Status RequireFloat(const std::vector<ValueInfo>& inputs, size_t i) {
  if (i >= inputs.size() || !inputs[i].present()) {
    return Status::InvalidArgument("input " + std::to_string(i) + " is required");
  }
  if (inputs[i].type != DType::kFloat) {
    return Status::InvalidArgument("input '" + inputs[i].name + "' is " +
                                   std::string(DTypeName(inputs[i].type)) +
                                   "; only float32 is supported");
  }
  return Status::Ok();
}

Status ReadScalarConstant(const std::vector<ValueInfo>& inputs, size_t i, float* value) {
  if (i >= inputs.size() || !inputs[i].present()) return Status::Ok();
  const ValueInfo& in = inputs[i];
  DIM_RETURN_IF_ERROR(RequireFloat(inputs, i));
  if (in.constant == nullptr) {
    return Status::InvalidArgument("input '" + in.name + "' must be a constant");
  }
  if (in.constant->size() != 1) {
    return Status::InvalidArgument("input '" + in.name + "' must hold a single value");
  }
  *value = in.constant->data()[0];
  return Status::Ok();
}

ValueInfo FloatValue(Shape shape) {
  ValueInfo v;
  v.type = DType::kFloat;
  v.shape = std::move(shape);
  return v;
}

}  // namespace dim::core
