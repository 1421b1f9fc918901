// Element-wise activations and math, applied in place when the input is not read again:
// Relu, LeakyRelu, Sigmoid, Tanh and Clip (opsets 6-21), which the GPU backend also runs,
// and Abs, Neg, Exp, Log, Sqrt and Erf (opsets 6-21), which converted models use around the
// ONNX-ML operators and which run on the CPU.
#include <Eigen/Core>
#include <cmath>
#include <limits>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

using ArrayMap = Eigen::Map<Eigen::ArrayXf>;

// Each function also fills in its part of the op's OpSpec.
struct ReluFn {
  void Describe(OpSpec& s) const { s.unary = OpSpec::UnaryFn::kRelu; }
  void operator()(ArrayMap x) const { x = x.max(0.0f); }
};
struct LeakyReluFn {
  float alpha;
  void Describe(OpSpec& s) const {
    s.unary = OpSpec::UnaryFn::kLeakyRelu;
    s.alpha = alpha;
  }
  void operator()(ArrayMap x) const { x = (x >= 0.0f).select(x, alpha * x); }
};
struct SigmoidFn {
  void Describe(OpSpec& s) const { s.unary = OpSpec::UnaryFn::kSigmoid; }
  void operator()(ArrayMap x) const { x = x.logistic(); }
};
struct TanhFn {
  void Describe(OpSpec& s) const { s.unary = OpSpec::UnaryFn::kTanh; }
  void operator()(ArrayMap x) const { x = x.tanh(); }
};
struct ClipFn {
  float min;
  float max;
  void Describe(OpSpec& s) const {
    s.unary = OpSpec::UnaryFn::kClip;
    s.min = min;
    s.max = max;
  }
  void operator()(ArrayMap x) const { x = x.max(min).min(max); }
};

struct AbsFn {
  void operator()(ArrayMap x) const { x = x.abs(); }
};
struct NegFn {
  void operator()(ArrayMap x) const { x = -x; }
};
struct ExpFn {
  void operator()(ArrayMap x) const { x = x.exp(); }
};
struct LogFn {
  void operator()(ArrayMap x) const { x = x.log(); }
};
struct SqrtFn {
  void operator()(ArrayMap x) const { x = x.sqrt(); }
};
struct ErfFn {
  void operator()(ArrayMap x) const {
    for (float& v : x) v = std::erf(v);
  }
};

// What a backend other than the CPU runs: the functions that describe themselves.
template <typename F>
OpSpec UnarySpec(const F& fn) {
  OpSpec s;
  if constexpr (requires(OpSpec & spec) { fn.Describe(spec); }) {
    s.kind = OpSpec::Kind::kUnary;
    fn.Describe(s);
  }
  return s;
}

// Runs fn over a copy of input 0, or over input 0 itself at its last use.

template <typename F>
Status ApplyInPlace(const F& fn, KernelInputs& inputs, std::span<Tensor> outputs) {
  Tensor t = inputs.Take(0);
  if (t.size() > 0) fn(ArrayMap(t.data(), t.size()));
  outputs[0] = std::move(t);
  return Status::Ok();
}

template <typename F>
class UnaryOp final : public Op {
 public:
  explicit UnaryOp(F fn) : fn_(fn) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    return std::vector<ValueInfo>{FloatValue(inputs[0].shape)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    return ApplyInPlace(fn_, inputs, outputs);
  }

  OpSpec spec() const override { return UnarySpec(fn_); }

 private:
  F fn_;
};

// Clip takes its bounds as attributes before opset 11 and as optional constant inputs
// from opset 11 on.
class Clip final : public Op {
 public:
  Clip(int64_t opset, float min, float max) : opset_(opset), fn_{min, max} {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    if (opset_ < 11) {
      if (inputs.size() > 1) {
        return Status::InvalidArgument("takes min and max as attributes before opset 11");
      }
    } else {
      DIM_RETURN_IF_ERROR(ReadScalarConstant(inputs, 1, &fn_.min));
      DIM_RETURN_IF_ERROR(ReadScalarConstant(inputs, 2, &fn_.max));
    }
    return std::vector<ValueInfo>{FloatValue(inputs[0].shape)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    return ApplyInPlace(fn_, inputs, outputs);
  }

  OpSpec spec() const override { return UnarySpec(fn_); }

 private:
  int64_t opset_;
  ClipFn fn_;
};

template <typename F>
Result<std::unique_ptr<Op>> Make(F fn) {
  return std::unique_ptr<Op>(std::make_unique<UnaryOp<F>>(fn));
}

}  // namespace

Result<std::unique_ptr<Op>> MakeRelu(const onnx::NodeProto&, int64_t) { return Make(ReluFn{}); }

Result<std::unique_ptr<Op>> MakeLeakyRelu(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const float alpha, NodeAttributes(node).Float("alpha", 0.01f));
  return Make(LeakyReluFn{alpha});
}

Result<std::unique_ptr<Op>> MakeSigmoid(const onnx::NodeProto&, int64_t) {
  return Make(SigmoidFn{});
}

Result<std::unique_ptr<Op>> MakeTanh(const onnx::NodeProto&, int64_t) { return Make(TanhFn{}); }

Result<std::unique_ptr<Op>> MakeAbs(const onnx::NodeProto&, int64_t) { return Make(AbsFn{}); }
Result<std::unique_ptr<Op>> MakeNeg(const onnx::NodeProto&, int64_t) { return Make(NegFn{}); }
Result<std::unique_ptr<Op>> MakeExp(const onnx::NodeProto&, int64_t) { return Make(ExpFn{}); }
Result<std::unique_ptr<Op>> MakeLog(const onnx::NodeProto&, int64_t) { return Make(LogFn{}); }
Result<std::unique_ptr<Op>> MakeSqrt(const onnx::NodeProto&, int64_t) { return Make(SqrtFn{}); }
Result<std::unique_ptr<Op>> MakeErf(const onnx::NodeProto&, int64_t) { return Make(ErfFn{}); }

Result<std::unique_ptr<Op>> MakeClip(const onnx::NodeProto& node, int64_t opset) {
  const NodeAttributes attrs(node);
  float min = std::numeric_limits<float>::lowest();
  float max = std::numeric_limits<float>::max();
  if (opset < 11) {
    DIM_ASSIGN_OR_RETURN(min, attrs.Float("min", min));
    DIM_ASSIGN_OR_RETURN(max, attrs.Float("max", max));
  }
  return std::unique_ptr<Op>(std::make_unique<Clip>(opset, min, max));
}

}  // namespace dim::core
