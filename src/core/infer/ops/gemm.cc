// Gemm: Y = alpha * op(A) * op(B) + beta * C, with C broadcast to Y (opsets 7-21). A dense
// layer (constant B, C absent or a constant row of biases, A not transposed) runs on B
// packed at load time (packed_gemm.h); any other Gemm on Eigen.
#include <Eigen/Core>
#include <memory>
#include <vector>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "core/infer/ops/packed_gemm.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

using RowMajor = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMajor>;
using MutMap = Eigen::Map<RowMajor>;

class Gemm final : public Op {
 public:
  Gemm(float alpha, float beta, bool trans_a, bool trans_b)
      : alpha_(alpha), beta_(beta), trans_a_(trans_a), trans_b_(trans_b) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 1));
    const Shape& a = inputs[0].shape;
    const Shape& b = inputs[1].shape;
    if (a.size() != 2) return Status::InvalidArgument("A must be 2-D, got " + ShapeToString(a));
    if (b.size() != 2) return Status::InvalidArgument("B must be 2-D, got " + ShapeToString(b));
    const Dim m = trans_a_ ? a[1] : a[0];
    const Dim k = trans_a_ ? a[0] : a[1];
    const Dim kb = trans_b_ ? b[1] : b[0];
    const Dim n = trans_b_ ? b[0] : b[1];
    if (!(k == kb)) {
      std::string flags;
      if (trans_a_) flags += " transA=1";
      if (trans_b_) flags += " transB=1";
      return Status::InvalidArgument("shape mismatch: A is " + ShapeToString(a) + " but B is " +
                                     ShapeToString(b) + (flags.empty() ? "" : " with" + flags));
    }
    const Shape y = {m, n};
    if (inputs.size() > 2 && inputs[2].present()) {
      DIM_RETURN_IF_ERROR(RequireFloat(inputs, 2));
      if (!BroadcastsTo(inputs[2].shape, y)) {
        return Status::InvalidArgument("shape mismatch: C is " + ShapeToString(inputs[2].shape) +
                                       " but A*B is " + ShapeToString(y));
      }
      has_c_ = true;
    }
    Pack(inputs);
    return std::vector<ValueInfo>{FloatValue(y)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    const Tensor& a = inputs[0];
    if (packed_ != nullptr) {
      if (a.rank() != 2 || a.dim(1) != packed_->k())
        return Status::Internal("Gemm: shape mismatch");
      Tensor y = Tensor::Uninitialized({a.dim(0), packed_->n()});
      packed_->Multiply(a.data(), a.dim(0), a.dim(1), y.data(), packed_->n());
      outputs[0] = std::move(y);
      return Status::Ok();
    }
    const Tensor& b = inputs[1];
    const ConstMap am(a.data(), a.dim(0), a.dim(1));
    const ConstMap bm(b.data(), b.dim(0), b.dim(1));
    const int64_t m = trans_a_ ? a.dim(1) : a.dim(0);
    const int64_t k = trans_a_ ? a.dim(0) : a.dim(1);
    const int64_t n = trans_b_ ? b.dim(0) : b.dim(1);
    if (k != (trans_b_ ? b.dim(1) : b.dim(0))) return Status::Internal("Gemm: shape mismatch");
    Tensor y = Tensor::Uninitialized({m, n});
    MutMap ym(y.data(), m, n);
    bool accumulate = false;
    if (has_c_ && inputs.present(2) && beta_ != 0.0f) {
      DIM_RETURN_IF_ERROR(FillWithC(inputs[2], ym));
      accumulate = true;
    }
    if (trans_a_ && trans_b_) {
      Multiply(am.transpose(), bm.transpose(), accumulate, ym);
    } else if (trans_a_) {
      Multiply(am.transpose(), bm, accumulate, ym);
    } else if (trans_b_) {
      Multiply(am, bm.transpose(), accumulate, ym);
    } else {
      Multiply(am, bm, accumulate, ym);
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

  OpSpec spec() const override {
    OpSpec s;
    s.kind = OpSpec::Kind::kGemm;
    s.alpha = alpha_;
    s.beta = has_c_ ? beta_ : 0.0f;
    s.trans_a = trans_a_;
    s.trans_b = trans_b_;
    return s;
  }

 private:
  // Packs B (and beta * C) when the Gemm is a dense layer: B constant, A not transposed, C
  // absent or a constant row [n] / [1, n].
  void Pack(const std::vector<ValueInfo>& inputs) {
    const ValueInfo& b = inputs[1];
    if (trans_a_ || b.constant == nullptr || b.constant->rank() != 2) return;
    const Tensor& bt = *b.constant;
    const int64_t k = trans_b_ ? bt.dim(1) : bt.dim(0);
    const int64_t n = trans_b_ ? bt.dim(0) : bt.dim(1);
    std::vector<float> bias;
    if (has_c_ && beta_ != 0.0f) {
      const ValueInfo& c = inputs[2];
      if (c.constant == nullptr || c.constant->size() != n ||
          (c.constant->rank() == 2 && c.constant->dim(0) != 1) || c.constant->rank() > 2) {
        return;
      }
      for (int64_t j = 0; j < n; ++j) bias.push_back(beta_ * c.constant->data()[j]);
    }
    packed_ = std::make_shared<const PackedMatrix>(bt.data(), k, n, trans_b_ ? 1 : n,
                                                   trans_b_ ? k : 1, alpha_, bias);
  }

  template <typename L, typename R>
  void Multiply(const L& lhs, const R& rhs, bool accumulate, MutMap& y) const {
    if (y.size() == 0) return;
    if (lhs.cols() == 0) {
      if (!accumulate) y.setZero();
      return;
    }
    if (accumulate) {
      y.noalias() += alpha_ * lhs * rhs;
    } else {
      y.noalias() = alpha_ * lhs * rhs;
    }
  }

  // y = beta * C broadcast to y's shape (C has rank <= 2 and broadcasts, checked in Infer).
  Status FillWithC(const Tensor& c, MutMap& y) const {
    const int64_t c_rows = c.rank() == 2 ? c.dim(0) : 1;
    const int64_t c_cols = c.rank() >= 1 ? c.dim(c.rank() - 1) : 1;
    if (c.rank() > 2 || (c_rows != 1 && c_rows != y.rows()) ||
        (c_cols != 1 && c_cols != y.cols())) {
      return Status::Internal("Gemm: C does not broadcast");
    }
    const ConstMap cm(c.data(), c_rows, c_cols);
    if (c_rows == y.rows() && c_cols == y.cols()) {
      y = beta_ * cm;
    } else if (c_rows == 1 && c_cols == y.cols()) {
      // Row by row: Eigen's Replicate does not vectorise, a contiguous row copy does.
      const Eigen::RowVectorXf row = beta_ * cm.row(0);
      for (Eigen::Index r = 0; r < y.rows(); ++r) y.row(r) = row;
    } else if (c_cols == 1 && c_rows == y.rows()) {
      for (Eigen::Index r = 0; r < y.rows(); ++r) y.row(r).setConstant(beta_ * cm(r, 0));
    } else {
      y.setConstant(beta_ * c.data()[0]);
    }
    return Status::Ok();
  }

  float alpha_;
  float beta_;
  bool trans_a_;
  bool trans_b_;
  bool has_c_ = false;
  std::shared_ptr<const PackedMatrix> packed_;  // Set for a dense layer.
};

}  // namespace

Result<std::unique_ptr<Op>> MakeGemm(const onnx::NodeProto& node, int64_t /*opset*/) {
  const NodeAttributes attrs(node);
  DIM_ASSIGN_OR_RETURN(const float alpha, attrs.Float("alpha", 1.0f));
  DIM_ASSIGN_OR_RETURN(const float beta, attrs.Float("beta", 1.0f));
  DIM_ASSIGN_OR_RETURN(const int64_t trans_a, attrs.Int("transA", 0));
  DIM_ASSIGN_OR_RETURN(const int64_t trans_b, attrs.Int("transB", 0));
  return std::unique_ptr<Op>(std::make_unique<Gemm>(alpha, beta, trans_a != 0, trans_b != 0));
}

}  // namespace dim::core
