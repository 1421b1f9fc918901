// Identity, and Dropout, which is the identity at inference (opsets 7-21).
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

class Identity final : public Op {
 public:
  explicit Identity(bool has_mask) : has_mask_(has_mask) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    std::vector<ValueInfo> out = {FloatValue(inputs[0].shape)};
    if (has_mask_) {
      // Dropout's boolean mask: it exists, but nothing float may consume it.
      ValueInfo mask;
      mask.type = DType::kOther;
      mask.shape = inputs[0].shape;
      out.push_back(std::move(mask));
    }
    return out;
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

 private:
  bool has_mask_;
};

}  // namespace

Result<std::unique_ptr<Op>> MakeIdentity(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<Identity>(false));
}

// Dropout's ratio and training_mode inputs (opset 12+) are ignored: inference never drops.
Result<std::unique_ptr<Op>> MakeDropout(const onnx::NodeProto& node, int64_t) {
  const bool has_mask = node.output_size() > 1 && !node.output(1).empty();
  return std::unique_ptr<Op>(std::make_unique<Identity>(has_mask));
}

}  // namespace dim::core
