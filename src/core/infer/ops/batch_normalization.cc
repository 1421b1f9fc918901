// BatchNormalization in inference mode: Y = (X - mean) / sqrt(var + epsilon) * scale + B
// per channel (dimension 1), with constant parameters folded into Y = a * X + b at load time.
#include <Eigen/Core>
#include <cmath>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using Rows = Eigen::Map<Eigen::Array<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;
using RowVector = Eigen::Array<float, 1, Eigen::Dynamic>;

class BatchNormalization final : public Op {
 public:
  explicit BatchNormalization(float epsilon) : epsilon_(epsilon) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    const Shape& x = inputs[0].shape;
    if (x.size() < 2 || !x[1].known()) {
      return Status::InvalidArgument("X must have a known channel dimension, got " +
                                     ShapeToString(x));
    }
    const int64_t channels = x[1].factor;
    const Tensor* params[4] = {};
    for (size_t i = 1; i < 5; ++i) {
      DIM_RETURN_IF_ERROR(RequireFloat(inputs, i));
      const ValueInfo& p = inputs[i];
      if (p.constant == nullptr) {
        return Status::InvalidArgument("input '" + p.name + "' must be a constant");
      }
      if (p.constant->rank() != 1 || p.constant->size() != channels) {
        return Status::InvalidArgument("shape mismatch: X is " + ShapeToString(x) + " but '" +
                                       p.name + "' is " + ShapeToString(p.shape));
      }
      params[i - 1] = p.constant.get();
    }
    const auto c = static_cast<Eigen::Index>(channels);
    const Eigen::Map<const RowVector> scale(params[0]->data(), c);
    const Eigen::Map<const RowVector> bias(params[1]->data(), c);
    const Eigen::Map<const RowVector> mean(params[2]->data(), c);
    const Eigen::Map<const RowVector> var(params[3]->data(), c);
    a_ = scale / (var + epsilon_).sqrt();
    b_ = bias - mean * a_;
    return std::vector<ValueInfo>{FloatValue(x)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    Tensor t = inputs.Take(0);
    if (t.rank() < 2 || t.dim(1) != a_.size()) return Status::Internal("channel mismatch");
    const int64_t batch = t.dim(0);
    const int64_t channels = t.dim(1);
    const int64_t inner = t.size() / std::max<int64_t>(batch * channels, 1);
    if (t.size() > 0) {
      if (inner == 1) {
        Rows x(t.data(), batch, channels);
        x = (x.rowwise() * a_).rowwise() + b_;
      } else {
        for (int64_t n = 0; n < batch; ++n) {
          for (int64_t c = 0; c < channels; ++c) {
            ArrayMap seg(t.data() + (n * channels + c) * inner, inner);
            seg = seg * a_[c] + b_[c];
          }
        }
      }
    }
    outputs[0] = std::move(t);
    return Status::Ok();
  }

  OpSpec spec() const override {
    OpSpec s;
    s.kind = OpSpec::Kind::kBatchNorm;
    s.scale = std::span<const float>(a_.data(), static_cast<size_t>(a_.size()));
    s.shift = std::span<const float>(b_.data(), static_cast<size_t>(b_.size()));
    return s;
  }

 private:
  float epsilon_;
  RowVector a_;
  RowVector b_;
};

}  // namespace

Result<std::unique_ptr<Op>> MakeBatchNormalization(const onnx::NodeProto& node, int64_t) {
  const NodeAttributes attrs(node);
  DIM_ASSIGN_OR_RETURN(const float epsilon, attrs.Float("epsilon", 1e-5f));
  DIM_ASSIGN_OR_RETURN(const int64_t training, attrs.Int("training_mode", 0));
  DIM_ASSIGN_OR_RETURN(const int64_t spatial, attrs.Int("spatial", 1));
  if (training != 0) return Status::InvalidArgument("training_mode=1 is not supported");
  if (spatial != 1) return Status::InvalidArgument("spatial=0 is not supported");
  return std::unique_ptr<Op>(std::make_unique<BatchNormalization>(epsilon));
}

}  // namespace dim::core
