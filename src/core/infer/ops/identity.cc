// Identity, and Dropout, which is the identity at inference (opsets 7-21).
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

class Identity final : public PassThroughOp {
 public:
  explicit Identity(bool has_mask) : has_mask_(has_mask) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireNumeric(inputs, 0));
    ValueInfo y = FloatValue(inputs[0].shape);
    y.type = inputs[0].type;  // A label or a boolean stays one.
    std::vector<ValueInfo> out = {std::move(y)};
    if (has_mask_) {
      // Dropout's boolean mask: it exists, but nothing float may consume it.
      ValueInfo mask;
      mask.type = DType::kOther;
      mask.shape = inputs[0].shape;
      out.push_back(std::move(mask));
    }
    return out;
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
