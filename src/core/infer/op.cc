#include "core/infer/op.h"

namespace dim::core {

Status PassThroughOp::Run(KernelInputs& inputs, std::span<Tensor> outputs) const {
  outputs[0] = inputs.Take(0);
  return Status::Ok();
}

OpSpec PassThroughOp::spec() const {
  OpSpec s;
  s.kind = OpSpec::Kind::kReshape;
  return s;
}

Status ReshapeOp::Run(KernelInputs& inputs, std::span<Tensor> outputs) const {
  Tensor t = inputs.Take(0);
  std::vector<int64_t> y = Reshaped(t.shape());
  if (NumElements(y) != t.size()) return Status::Internal("element counts differ");
  t.Reshape(std::move(y));
  outputs[0] = std::move(t);
  return Status::Ok();
}

OpSpec ReshapeOp::spec() const {
  OpSpec s;
  s.kind = OpSpec::Kind::kReshape;
  return s;
}

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

Status RequireNumeric(const std::vector<ValueInfo>& inputs, size_t i) {
  if (i >= inputs.size() || !inputs[i].present()) {
    return Status::InvalidArgument("input " + std::to_string(i) + " is required");
  }
  const ValueInfo& in = inputs[i];
  if (in.ints != nullptr && in.constant == nullptr) {
    return Status::InvalidArgument("input '" + in.name +
                                   "' is an int64 constant; only float32 constants are supported "
                                   "here");
  }
  if (in.type != DType::kFloat && in.type != DType::kInt64 && in.type != DType::kBool) {
    return Status::InvalidArgument("input '" + in.name + "' is " + std::string(DTypeName(in.type)) +
                                   "; only float32, int64 and bool are supported");
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
