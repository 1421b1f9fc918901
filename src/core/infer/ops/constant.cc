// Constant: a value from the node's attributes, folded at load time (opsets 9-21).
#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "core/infer/tensor_proto.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

class Constant final : public Op {
 public:
  explicit Constant(ValueInfo value) : value_(std::move(value)) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>&) override {
    return std::vector<ValueInfo>{value_};
  }

  Status Run(KernelInputs&, std::span<Tensor>) const override {
    return Status::Internal("Constant runs at load time");
  }

 private:
  ValueInfo value_;
};

Result<std::unique_ptr<Op>> Make(ValueInfo value) {
  return std::unique_ptr<Op>(std::make_unique<Constant>(std::move(value)));
}

}  // namespace

Result<std::unique_ptr<Op>> MakeConstant(const onnx::NodeProto& node, int64_t) {
  const NodeAttributes attrs(node);
  if (node.attribute_size() != 1) {
    return Status::InvalidArgument("needs exactly one attribute holding the value");
  }
  const std::string& kind = node.attribute(0).name();
  if (kind == "value") {
    DIM_ASSIGN_OR_RETURN(const onnx::TensorProto* t, attrs.Tensor("value"));
    DIM_ASSIGN_OR_RETURN(ValueInfo value, DecodeTensorProto(*t));
    return Make(std::move(value));
  }
  ValueInfo v;
  if (kind == "value_float" || kind == "value_floats") {
    std::vector<float> values;
    if (kind == "value_float") {
      DIM_ASSIGN_OR_RETURN(const float f, attrs.Float(kind, 0.0f));
      values.push_back(f);
    } else {
      DIM_ASSIGN_OR_RETURN(values, attrs.Floats(kind));
      v.shape.push_back(Dim::Known(static_cast<int64_t>(values.size())));
    }
    v.type = DType::kFloat;
    v.constant =
        std::make_shared<const Tensor>(Tensor::FromData(ResolveShape(v.shape, 1), values.data()));
    return Make(std::move(v));
  }
  if (kind == "value_int" || kind == "value_ints") {
    std::vector<int64_t> values;
    if (kind == "value_int") {
      DIM_ASSIGN_OR_RETURN(const int64_t i, attrs.Int(kind, 0));
      values.push_back(i);
    } else {
      DIM_ASSIGN_OR_RETURN(values, attrs.Ints(kind));
      v.shape.push_back(Dim::Known(static_cast<int64_t>(values.size())));
    }
    v.type = DType::kInt64;
    v.ints = std::make_shared<const std::vector<int64_t>>(std::move(values));
    return Make(std::move(v));
  }
  return Status::InvalidArgument("attribute '" + kind + "' is not supported");
}

}  // namespace dim::core
