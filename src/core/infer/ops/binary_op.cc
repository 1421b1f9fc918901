// Element-wise Add, Sub, Mul, Div and Pow, and the comparisons Equal, Greater,
// GreaterOrEqual, Less and LessOrEqual (booleans, held as 0 and 1), with ONNX
// multidirectional (numpy) broadcasting (opsets 7-21). The GPU backend runs the first four.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

using ArrayMap = Eigen::Map<Eigen::ArrayXf>;
using ConstArrayMap = Eigen::Map<const Eigen::ArrayXf>;

struct AddFn {
  static constexpr OpSpec::BinaryFn kSpec = OpSpec::BinaryFn::kAdd;
  template <typename X, typename Y>
  auto operator()(const X& x, const Y& y) const {
    return x + y;
  }
};
struct SubFn {
  static constexpr OpSpec::BinaryFn kSpec = OpSpec::BinaryFn::kSub;
  template <typename X, typename Y>
  auto operator()(const X& x, const Y& y) const {
    return x - y;
  }
};
struct MulFn {
  static constexpr OpSpec::BinaryFn kSpec = OpSpec::BinaryFn::kMul;
  template <typename X, typename Y>
  auto operator()(const X& x, const Y& y) const {
    return x * y;
  }
};
struct DivFn {
  static constexpr OpSpec::BinaryFn kSpec = OpSpec::BinaryFn::kDiv;
  template <typename X, typename Y>
  auto operator()(const X& x, const Y& y) const {
    return x / y;
  }
};

// std::pow element by element: Eigen's vectorised pow trips GCC 12's -Wuninitialized in
// the AVX-512 intrinsics it inlines.
struct PowFn {
  template <typename X, typename Y>
  auto operator()(const X& x, const Y& y) const {
    if constexpr (std::is_arithmetic_v<X> && std::is_arithmetic_v<Y>) {
      return std::pow(x, y);
    } else if constexpr (std::is_arithmetic_v<X>) {
      return y.unaryExpr([x](float e) { return std::pow(x, e); });
    } else if constexpr (std::is_arithmetic_v<Y>) {
      return x.unaryExpr([y](float b) { return std::pow(b, y); });
    } else {
      return x.binaryExpr(y, [](float b, float e) { return std::pow(b, e); });
    }
  }
};

// A comparison `x OP y`, as 1 or 0; Flip is the same comparison with its operands swapped
// (an array must come first in Eigen's comparisons with a scalar).
#define DIM_COMPARISON(NAME, OP, FLIPPED)                                 \
  struct NAME {                                                           \
    static constexpr bool kCompare = true;                                \
    template <typename X, typename Y>                                     \
    auto operator()(const X& x, const Y& y) const {                       \
      if constexpr (std::is_arithmetic_v<X> && std::is_arithmetic_v<Y>) { \
        return (x OP y) ? 1.0f : 0.0f;                                    \
      } else if constexpr (std::is_arithmetic_v<X>) {                     \
        return (y FLIPPED x).template cast<float>();                      \
      } else {                                                            \
        return (x OP y).template cast<float>();                           \
      }                                                                   \
    }                                                                     \
  };
DIM_COMPARISON(EqualFn, ==, ==)
DIM_COMPARISON(GreaterFn, >, <)
DIM_COMPARISON(GreaterOrEqualFn, >=, <=)
DIM_COMPARISON(LessFn, <, >)
DIM_COMPARISON(LessOrEqualFn, <=, >=)
#undef DIM_COMPARISON

template <typename F>
constexpr bool IsComparison() {
  return requires { F::kCompare; };
}
template <typename F>
constexpr bool HasDeviceKernel() {
  return requires { F::kSpec; };
}

// A broadcast walk over the output after merging neighbouring dimensions that broadcast
// alike: sizes[i], and whether A and B each cover dimension i (else they repeat along it).
struct Walk {
  std::vector<int64_t> sizes;
  std::vector<bool> a_full;
  std::vector<bool> b_full;
};

Walk PlanWalk(const std::vector<int64_t>& out, const std::vector<int64_t>& a,
              const std::vector<int64_t>& b) {
  Walk w;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == 1) continue;
    const bool af = a[i] == out[i];
    const bool bf = b[i] == out[i];
    if (!w.sizes.empty() && w.a_full.back() == af && w.b_full.back() == bf) {
      w.sizes.back() *= out[i];
    } else {
      w.sizes.push_back(out[i]);
      w.a_full.push_back(af);
      w.b_full.push_back(bf);
    }
  }
  return w;
}

// Element strides of an operand along the walk's dimensions (0 where it repeats).
std::vector<int64_t> Strides(const Walk& w, const std::vector<bool>& full) {
  std::vector<int64_t> strides(w.sizes.size(), 0);
  int64_t stride = 1;
  for (size_t i = w.sizes.size(); i-- > 0;) {
    if (full[i]) {
      strides[i] = stride;
      stride *= w.sizes[i];
    }
  }
  return strides;
}

template <typename F>
void Broadcast(const float* a, const float* b, float* y, const std::vector<int64_t>& out,
               const std::vector<int64_t>& a_dims, const std::vector<int64_t>& b_dims, F f) {
  const Walk w = PlanWalk(out, a_dims, b_dims);
  if (w.sizes.empty()) {  // A single element.
    y[0] = f(a[0], b[0]);
    return;
  }
  const std::vector<int64_t> as = Strides(w, w.a_full);
  const std::vector<int64_t> bs = Strides(w, w.b_full);
  const size_t inner_dim = w.sizes.size() - 1;
  const int64_t inner = w.sizes[inner_dim];
  const bool a_inner = w.a_full[inner_dim];
  const bool b_inner = w.b_full[inner_dim];
  int64_t outer = 1;
  for (size_t i = 0; i < inner_dim; ++i) outer *= w.sizes[i];

  std::vector<int64_t> index(inner_dim, 0);
  int64_t a_off = 0;
  int64_t b_off = 0;
  for (int64_t o = 0; o < outer; ++o) {
    ArrayMap ys(y + o * inner, inner);
    if (a_inner && b_inner) {
      ys = f(ConstArrayMap(a + a_off, inner), ConstArrayMap(b + b_off, inner));
    } else if (a_inner) {
      ys = f(ConstArrayMap(a + a_off, inner), b[b_off]);
    } else {
      ys = f(a[a_off], ConstArrayMap(b + b_off, inner));
    }
    for (size_t d = inner_dim; d-- > 0;) {
      a_off += as[d];
      b_off += bs[d];
      if (++index[d] < w.sizes[d]) break;
      a_off -= as[d] * w.sizes[d];
      b_off -= bs[d] * w.sizes[d];
      index[d] = 0;
    }
  }
}

std::vector<int64_t> PadLeft(const std::vector<int64_t>& shape, size_t rank) {
  std::vector<int64_t> out(rank - shape.size(), 1);
  out.insert(out.end(), shape.begin(), shape.end());
  return out;
}

template <typename F>
class BinaryOp final : public Op {
 public:
  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    if constexpr (IsComparison<F>()) {
      // Any of the types held in float storage; int64 constants are converted.
      for (size_t i = 0; i < 2; ++i) DIM_RETURN_IF_ERROR(RequireNumeric(inputs, i));
    } else if constexpr (std::is_same_v<F, PowFn>) {
      DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
      DIM_RETURN_IF_ERROR(RequireNumeric(inputs, 1));  // An integer exponent is common.
    } else {
      DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
      DIM_RETURN_IF_ERROR(RequireFloat(inputs, 1));
    }
    Result<Shape> y = BroadcastShapes(inputs[0].shape, inputs[1].shape);
    if (!y.ok()) return Status::InvalidArgument("shape mismatch: " + y.status().message());
    ValueInfo out = FloatValue(std::move(*y));
    if constexpr (IsComparison<F>()) out.type = DType::kBool;
    return std::vector<ValueInfo>{std::move(out)};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    const F f;
    const size_t rank = std::max(inputs[0].rank(), inputs[1].rank());
    const std::vector<int64_t> a_dims = PadLeft(inputs[0].shape(), rank);
    const std::vector<int64_t> b_dims = PadLeft(inputs[1].shape(), rank);
    std::vector<int64_t> out(rank);
    for (size_t i = 0; i < rank; ++i) {
      if (a_dims[i] != b_dims[i] && a_dims[i] != 1 && b_dims[i] != 1) {
        return Status::Internal("shapes do not broadcast");
      }
      out[i] = a_dims[i] == 1 ? b_dims[i] : a_dims[i];
    }
    const int64_t count = NumElements(out);

    // Work in place when A already has the output's shape and nobody else reads it.
    Tensor y;
    const float* a = nullptr;
    if (inputs.movable(0) && inputs[0].shape().size() == rank && a_dims == out) {
      y = inputs.Take(0);
      a = y.data();
    } else {
      y = Tensor::Uninitialized(out);
      a = inputs[0].data();
    }
    const Tensor& b_tensor = inputs[1];
    const float* b = b_tensor.data();
    if (count > 0) {
      if (a_dims == out && b_dims == out) {
        ArrayMap(y.data(), count) = f(ConstArrayMap(a, count), ConstArrayMap(b, count));
      } else if (b_tensor.size() == 1) {
        ArrayMap(y.data(), count) = f(ConstArrayMap(a, count), b[0]);
      } else {
        Broadcast(a, b, y.data(), out, a_dims, b_dims, f);
      }
    }
    outputs[0] = std::move(y);
    return Status::Ok();
  }

  bool ReadsInt64ConstantsAsValues() const override {
    return IsComparison<F>() || std::is_same_v<F, PowFn>;
  }

  OpSpec spec() const override {
    OpSpec s;
    if constexpr (HasDeviceKernel<F>()) {
      s.kind = OpSpec::Kind::kBinary;
      s.binary = F::kSpec;
    }
    return s;
  }
};

}  // namespace

Result<std::unique_ptr<Op>> MakeAdd(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<AddFn>>());
}
Result<std::unique_ptr<Op>> MakeSub(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<SubFn>>());
}
Result<std::unique_ptr<Op>> MakeMul(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<MulFn>>());
}
Result<std::unique_ptr<Op>> MakeDiv(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<DivFn>>());
}
Result<std::unique_ptr<Op>> MakePow(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<PowFn>>());
}
Result<std::unique_ptr<Op>> MakeEqual(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<EqualFn>>());
}
Result<std::unique_ptr<Op>> MakeGreater(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<GreaterFn>>());
}
Result<std::unique_ptr<Op>> MakeGreaterOrEqual(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<GreaterOrEqualFn>>());
}
Result<std::unique_ptr<Op>> MakeLess(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<LessFn>>());
}
Result<std::unique_ptr<Op>> MakeLessOrEqual(const onnx::NodeProto&, int64_t) {
  return std::unique_ptr<Op>(std::make_unique<BinaryOp<LessOrEqualFn>>());
}

}  // namespace dim::core
