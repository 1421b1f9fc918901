// Cast to float32: the identity on float values and on ArgMax's indices (already stored as
// floats); int64 constants are converted at load time (opsets 6-21).
#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

class CastToFloat final : public Op {
 public:
  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    const ValueInfo& x = inputs[0];
    if (x.type == DType::kInt64 && x.ints != nullptr) {
      std::vector<float> values(x.ints->begin(), x.ints->end());
      ValueInfo v = FloatValue(x.shape);
      v.constant =
          std::make_shared<const Tensor>(Tensor::FromData(ResolveShape(x.shape, 1), values.data()));
      return std::vector<ValueInfo>{std::move(v)};
    }
    if (x.type != DType::kFloat && x.type != DType::kInt64) {
      return Status::InvalidArgument("input '" + x.name + "' is " + std::string(DTypeName(x.type)) +
                                     "; cannot cast it");
    }
    return std::vector<ValueInfo>{FloatValue(x.shape)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    outputs[0] = inputs.Take(0);
    return Status::Ok();
  }

  OpSpec spec() const override {
    OpSpec s;
    s.kind = OpSpec::Kind::kReshape;
    return s;
  }
};

}  // namespace

Result<std::unique_ptr<Op>> MakeCast(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const int64_t to, NodeAttributes(node).Int("to", 0));
  if (to != onnx::TensorProto::FLOAT) {
    return Status::InvalidArgument("only casts to float32 are supported (to=" + std::to_string(to) +
                                   ")");
  }
  return std::unique_ptr<Op>(std::make_unique<CastToFloat>());
}

}  // namespace dim::core
