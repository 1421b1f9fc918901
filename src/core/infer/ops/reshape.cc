// Reshape to a constant int64 shape: 0 copies the input's dimension (unless allowzero),
// -1 is inferred (opsets 5-21).
#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

class Reshape final : public ReshapeOp {
 public:
  explicit Reshape(bool allow_zero) : allow_zero_(allow_zero) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    const ValueInfo& shape = inputs[1];
    if (shape.type != DType::kInt64 || shape.ints == nullptr || shape.shape.size() != 1) {
      return Status::InvalidArgument("shape '" + shape.name + "' must be a 1-D int64 constant");
    }
    target_ = *shape.ints;
    const Shape& x = inputs[0].shape;
    const std::string what = "cannot reshape " + ShapeToString(x) + " to " + TargetToString();
    Shape y;
    int inferred = -1;
    bool has_zero = false;
    for (size_t i = 0; i < target_.size(); ++i) {
      const int64_t d = target_[i];
      if (d == -1) {
        if (inferred >= 0) return Status::InvalidArgument(what + ": more than one -1");
        inferred = static_cast<int>(i);
        y.push_back(Dim::Known(1));
      } else if (d == 0 && !allow_zero_) {
        if (i >= x.size()) return Status::InvalidArgument(what + ": 0 copies a missing dimension");
        y.push_back(x[i]);
      } else if (d < 0 || d > kMaxDimension) {
        return Status::InvalidArgument(what + ": invalid dimension " + std::to_string(d));
      } else {
        has_zero = has_zero || d == 0;
        y.push_back(Dim::Known(d));
      }
    }
    if (has_zero && inferred >= 0) {
      return Status::InvalidArgument(what + ": -1 with a 0 dimension (allowzero)");
    }
    DIM_ASSIGN_OR_RETURN(const Dim total, DimProduct(x, 0, x.size()));
    DIM_ASSIGN_OR_RETURN(const Dim known, DimProduct(y, 0, y.size()));
    if (inferred >= 0) {
      const std::optional<Dim> rest = DimQuotient(total, known);
      if (!rest) return Status::InvalidArgument(what + ": sizes do not divide");
      y[static_cast<size_t>(inferred)] = *rest;
    } else if (!(total == known)) {
      return Status::InvalidArgument(what + ": element counts differ");
    }
    return std::vector<ValueInfo>{FloatValue(std::move(y))};
  }

 private:
  std::vector<int64_t> Reshaped(const std::vector<int64_t>& x) const override {
    std::vector<int64_t> y(target_.size());
    int64_t known = 1;
    int inferred = -1;
    for (size_t i = 0; i < target_.size(); ++i) {
      if (target_[i] == -1) {
        inferred = static_cast<int>(i);
        continue;
      }
      y[i] = target_[i] == 0 && !allow_zero_ ? x[i] : target_[i];
      known *= y[i];
    }
    if (inferred >= 0) y[static_cast<size_t>(inferred)] = known == 0 ? 0 : NumElements(x) / known;
    return y;
  }

  std::string TargetToString() const {
    std::string out = "[";
    for (size_t i = 0; i < target_.size(); ++i) {
      if (i > 0) out += ',';
      out += std::to_string(target_[i]);
    }
    return out + "]";
  }

  bool allow_zero_;
  std::vector<int64_t> target_;
};

}  // namespace

Result<std::unique_ptr<Op>> MakeReshape(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const int64_t allow_zero, NodeAttributes(node).Int("allowzero", 0));
  return std::unique_ptr<Op>(std::make_unique<Reshape>(allow_zero != 0));
}

}  // namespace dim::core
