// Cast between the types held in float storage (opsets 6-21): to float32 (the identity on
// float values, int64 labels and indices, and booleans), to int64 (truncation toward zero)
// and to bool (non-zero is true). int64 constants are converted at load time.
#include <cmath>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

class Cast final : public Op {
 public:
  explicit Cast(DType to) : to_(to) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    const ValueInfo& x = inputs[0];
    if (x.type == DType::kInt64 && x.ints != nullptr) {
      if (to_ == DType::kInt64) return std::vector<ValueInfo>{x};
      std::vector<float> values;
      for (int64_t v : *x.ints)
        values.push_back(to_ == DType::kBool ? (v != 0 ? 1.0f : 0.0f) : static_cast<float>(v));
      ValueInfo v = FloatValue(x.shape);
      v.constant =
          std::make_shared<const Tensor>(Tensor::FromData(ResolveShape(x.shape, 1), values.data()));
      v.type = to_;  // A bool constant is its 0/1 float form.
      return std::vector<ValueInfo>{std::move(v)};
    }
    if (x.type != DType::kFloat && x.type != DType::kInt64 && x.type != DType::kBool) {
      return Status::InvalidArgument("input '" + x.name + "' is " + std::string(DTypeName(x.type)) +
                                     "; cannot cast it");
    }
    from_ = x.type;
    ValueInfo y = FloatValue(x.shape);
    y.type = to_;
    return std::vector<ValueInfo>{std::move(y)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    Tensor t = inputs.Take(0);
    if (to_ == DType::kInt64 && from_ == DType::kFloat) {
      for (int64_t i = 0; i < t.size(); ++i) t.data()[i] = std::trunc(t.data()[i]);
    } else if (to_ == DType::kBool && from_ != DType::kBool) {
      for (int64_t i = 0; i < t.size(); ++i) t.data()[i] = t.data()[i] != 0.0f ? 1.0f : 0.0f;
    }
    outputs[0] = std::move(t);
    return Status::Ok();
  }

  OpSpec spec() const override {
    OpSpec s;
    if (to_ == DType::kFloat || to_ == from_) s.kind = OpSpec::Kind::kReshape;
    return s;
  }

 private:
  DType to_;
  DType from_ = DType::kFloat;
};

}  // namespace

Result<std::unique_ptr<Op>> MakeCast(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const int64_t to, NodeAttributes(node).Int("to", 0));
  switch (to) {
    case onnx::TensorProto::FLOAT:
      return std::unique_ptr<Op>(std::make_unique<Cast>(DType::kFloat));
    case onnx::TensorProto::INT64:
      return std::unique_ptr<Op>(std::make_unique<Cast>(DType::kInt64));
    case onnx::TensorProto::BOOL:
      return std::unique_ptr<Op>(std::make_unique<Cast>(DType::kBool));
    default:
      return Status::InvalidArgument(
          "only casts to float32, int64 and bool are supported (to=" + std::to_string(to) + ")");
  }
}

}  // namespace dim::core
