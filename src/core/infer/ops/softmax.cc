// Softmax and LogSoftmax. Before opset 13 the input is coerced to 2-D at `axis` (default 1)
// and normalised over the flattened trailing part; from opset 13 on it is normalised over
// the single dimension `axis` (default -1).
#include <Eigen/Core>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

using Block = Eigen::Map<Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

// Normalises each row of x (numerically stable: the row's maximum is subtracted first).
void NormalizeRows(Block x, bool log) {
  const Eigen::ArrayXf max = x.rowwise().maxCoeff();
  x.colwise() -= max;
  if (log) {
    const Eigen::ArrayXf log_sum = x.exp().rowwise().sum().log();
    x.colwise() -= log_sum;
  } else {
    x = x.exp();
    const Eigen::ArrayXf sum = x.rowwise().sum();
    x.colwise() /= sum;
  }
}

// The same over each column.
void NormalizeColumns(Block x, bool log) {
  const Eigen::Array<float, 1, Eigen::Dynamic> max = x.colwise().maxCoeff();
  x.rowwise() -= max;
  if (log) {
    const Eigen::Array<float, 1, Eigen::Dynamic> log_sum = x.exp().colwise().sum().log();
    x.rowwise() -= log_sum;
  } else {
    x = x.exp();
    const Eigen::Array<float, 1, Eigen::Dynamic> sum = x.colwise().sum();
    x.rowwise() /= sum;
  }
}

class Softmax final : public Op {
 public:
  Softmax(int64_t axis, bool coerce_2d, bool log) : axis_(axis), coerce_2d_(coerce_2d), log_(log) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    const int64_t rank = static_cast<int64_t>(inputs[0].shape.size());
    DIM_ASSIGN_OR_RETURN(axis_, NormalizeAxis(axis_, rank));
    return std::vector<ValueInfo>{FloatValue(inputs[0].shape)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    Tensor t = inputs.Take(0);
    if (axis_ >= t.rank()) return Status::Internal("axis out of range");
    int64_t outer = 1;
    for (int64_t i = 0; i < axis_; ++i) outer *= t.dim(i);
    const int64_t len = coerce_2d_ ? t.size() / std::max<int64_t>(outer, 1) : t.dim(axis_);
    const int64_t inner = coerce_2d_ ? 1 : t.size() / std::max<int64_t>(outer * len, 1);
    if (t.size() > 0) {
      if (inner == 1) {
        NormalizeRows(Block(t.data(), outer, len), log_);
      } else {
        for (int64_t o = 0; o < outer; ++o) {
          NormalizeColumns(Block(t.data() + o * len * inner, len, inner), log_);
        }
      }
    }
    outputs[0] = std::move(t);
    return Status::Ok();
  }

  bool MixesRows() const override { return axis_ == 0; }

  OpSpec spec() const override {
    OpSpec s;
    s.kind = OpSpec::Kind::kSoftmax;
    s.axis = axis_;
    s.coerce_2d = coerce_2d_;
    s.log = log_;
    return s;
  }

 private:
  int64_t axis_;
  bool coerce_2d_;
  bool log_;
};

Result<std::unique_ptr<Op>> Make(const onnx::NodeProto& node, int64_t opset, bool log) {
  const bool coerce_2d = opset < 13;
  DIM_ASSIGN_OR_RETURN(const int64_t axis, NodeAttributes(node).Int("axis", coerce_2d ? 1 : -1));
  return std::unique_ptr<Op>(std::make_unique<Softmax>(axis, coerce_2d, log));
}

}  // namespace

Result<std::unique_ptr<Op>> MakeSoftmax(const onnx::NodeProto& node, int64_t opset) {
  return Make(node, opset, false);
}

Result<std::unique_ptr<Op>> MakeLogSoftmax(const onnx::NodeProto& node, int64_t opset) {
  return Make(node, opset, true);
}

}  // namespace dim::core
