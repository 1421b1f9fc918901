// MatMul with numpy semantics: 1-D operands are promoted and the promoted dimension dropped
// again; leading (batch) dimensions broadcast (opsets 1-21).
#include <Eigen/Core>

#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMajor>;
using MutMap = Eigen::Map<RowMajor>;

// The operands seen as stacks of matrices: batch dims, then rows x cols.
struct MatrixStack {
  std::vector<int64_t> batch;
  int64_t rows = 0;
  int64_t cols = 0;
};

MatrixStack AsStack(const std::vector<int64_t>& shape, bool is_lhs) {
  MatrixStack s;
  if (shape.size() == 1) {
    s.rows = is_lhs ? 1 : shape[0];
    s.cols = is_lhs ? shape[0] : 1;
    return s;
  }
  s.batch.assign(shape.begin(), shape.end() - 2);
  s.rows = shape[shape.size() - 2];
  s.cols = shape.back();
  return s;
}

void Product(const float* a, const float* b, float* y, int64_t m, int64_t k, int64_t n) {
  MutMap ym(y, m, n);
  if (k == 0) {
    ym.setZero();
    return;
  }
  if (m == 0 || n == 0) return;
  ym.noalias() = ConstMap(a, m, k) * ConstMap(b, k, n);
}

class MatMul final : public Op {
 public:
  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 1));
    const Shape& a = inputs[0].shape;
    const Shape& b = inputs[1].shape;
    if (a.empty() || b.empty()) {
      return Status::InvalidArgument("operands must have at least one dimension, got " +
                                     ShapeToString(a) + " and " + ShapeToString(b));
    }
    const Dim ka = a.back();
    const Dim kb = b.size() == 1 ? b[0] : b[b.size() - 2];
    if (!(ka == kb)) {
      return Status::InvalidArgument("shape mismatch: A is " + ShapeToString(a) + " but B is " +
                                     ShapeToString(b));
    }
    const Shape a_batch(a.begin(), a.end() - std::min<size_t>(a.size(), 2));
    const Shape b_batch(b.begin(), b.end() - std::min<size_t>(b.size(), 2));
    Result<Shape> batch = BroadcastShapes(a_batch, b_batch);
    if (!batch.ok()) {
      return Status::InvalidArgument("shape mismatch: A is " + ShapeToString(a) + " but B is " +
                                     ShapeToString(b) + " (batch dimensions do not broadcast)");
    }
    Shape y = *batch;
    if (a.size() >= 2) y.push_back(a[a.size() - 2]);
    if (b.size() >= 2) y.push_back(b.back());
    return std::vector<ValueInfo>{FloatValue(std::move(y))};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    const Tensor& a = inputs[0];
    const Tensor& b = inputs[1];
    if (a.rank() == 0 || b.rank() == 0) return Status::Internal("MatMul: scalar operand");
    const MatrixStack sa = AsStack(a.shape(), true);
    const MatrixStack sb = AsStack(b.shape(), false);
    if (sa.cols != sb.rows) return Status::Internal("MatMul: shape mismatch");
    const int64_t m = sa.rows;
    const int64_t k = sa.cols;
    const int64_t n = sb.cols;

    std::vector<int64_t> y_shape;
    Tensor y;
    if (sb.batch.empty()) {
      // The common case (activations times weights): all of A's matrices stacked are one
      // tall matrix, so one product does the whole batch.
      y_shape = sa.batch;
      int64_t stacked = m;
      for (int64_t d : sa.batch) stacked *= d;
      if (a.rank() >= 2) y_shape.push_back(m);
      if (b.rank() >= 2) y_shape.push_back(n);
      y = Tensor::Uninitialized(std::move(y_shape));
      Product(a.data(), b.data(), y.data(), stacked, k, n);
      outputs[0] = std::move(y);
      return Status::Ok();
    }

    // Broadcast batch dimensions: walk the output's batch index and map it to A and B.
    const size_t rank = std::max(sa.batch.size(), sb.batch.size());
    std::vector<int64_t> batch(rank), a_dims(rank, 1), b_dims(rank, 1);
    for (size_t i = 0; i < sa.batch.size(); ++i) a_dims[rank - sa.batch.size() + i] = sa.batch[i];
    for (size_t i = 0; i < sb.batch.size(); ++i) b_dims[rank - sb.batch.size() + i] = sb.batch[i];
    for (size_t i = 0; i < rank; ++i) {
      if (a_dims[i] != b_dims[i] && a_dims[i] != 1 && b_dims[i] != 1) {
        return Status::Internal("MatMul: batch dimensions do not broadcast");
      }
      batch[i] = std::max(a_dims[i], b_dims[i]);
      if (a_dims[i] == 0 || b_dims[i] == 0) batch[i] = 0;
    }
    y_shape = batch;
    if (a.rank() >= 2) y_shape.push_back(m);
    if (b.rank() >= 2) y_shape.push_back(n);
    y = Tensor::Uninitialized(std::move(y_shape));
    const int64_t count = NumElements(batch);
    std::vector<int64_t> index(rank, 0);
    for (int64_t i = 0; i < count; ++i) {
      int64_t a_offset = 0;
      int64_t b_offset = 0;
      for (size_t d = 0; d < rank; ++d) {
        a_offset = a_offset * a_dims[d] + (a_dims[d] == 1 ? 0 : index[d]);
        b_offset = b_offset * b_dims[d] + (b_dims[d] == 1 ? 0 : index[d]);
      }
      Product(a.data() + a_offset * m * k, b.data() + b_offset * k * n, y.data() + i * m * n, m, k,
              n);
      for (size_t d = rank; d-- > 0;) {
        if (++index[d] < batch[d]) break;
        index[d] = 0;
      }
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

  OpSpec spec() const override {
    OpSpec s;
    s.kind = OpSpec::Kind::kMatMul;
    return s;
  }
};

}  // namespace

Result<std::unique_ptr<Op>> MakeMatMul(const onnx::NodeProto& /*node*/, int64_t /*opset*/) {
  return std::unique_ptr<Op>(std::make_unique<MatMul>());
}

}  // namespace dim::core
