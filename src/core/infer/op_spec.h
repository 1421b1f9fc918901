// What an operator computes, described without reference to any device: how a backend
// other than the CPU (infer/cuda/) finds the kernel for a step without knowing op classes.
#pragma once

#include <cstdint>
#include <span>

namespace dim::core {

// A tagged description; only the fields named for `kind` are meaningful. Axes are already
// normalised to [0, rank). Shapes are not part of it: a backend takes them from the plan
// (Graph::Plan::value_shapes) and from the tensors.
struct OpSpec final {
  enum class Kind {
    kOther,      // No description: run the CPU kernel.
    kGemm,       // Y = alpha * op(A) * op(B) + beta * C; C (optional) broadcasts to Y.
    kMatMul,     // numpy matmul of inputs 0 and 1.
    kBinary,     // Y = A (binary) B with ONNX multidirectional broadcasting.
    kUnary,      // Y = unary(X), element-wise.
    kSoftmax,    // (Log)Softmax of input 0 over `axis` (or, with coerce_2d, axis and after).
    kBatchNorm,  // Y = X * scale[c] + shift[c], c the index along dimension 1.
    kConcat,     // Inputs concatenated along `axis`.
    kArgMax,     // Index of the largest value along `axis`, as float.
    kReshape,    // Y holds X's data unchanged; only the shape differs (Flatten, Reshape,
                 // Identity, Dropout, Cast to float).
  };
  enum class BinaryFn { kAdd, kSub, kMul, kDiv };
  enum class UnaryFn { kRelu, kLeakyRelu, kSigmoid, kTanh, kClip };

  Kind kind = Kind::kOther;
  BinaryFn binary = BinaryFn::kAdd;  // kBinary.
  UnaryFn unary = UnaryFn::kRelu;    // kUnary.
  float alpha = 1.0f;                // kGemm: alpha; kUnary kLeakyRelu: the negative slope.
  float beta = 0.0f;                 // kGemm: beta (0 when C is absent).
  float min = 0.0f;                  // kUnary kClip: the bounds.
  float max = 0.0f;
  bool trans_a = false;  // kGemm.
  bool trans_b = false;
  int64_t axis = 0;         // kSoftmax, kConcat, kArgMax.
  bool log = false;         // kSoftmax: LogSoftmax.
  bool coerce_2d = false;   // kSoftmax before opset 13: normalise over [axis, rank).
  bool last_index = false;  // kArgMax: ties go to the last index (select_last_index).
  // kBatchNorm: per-channel factors, owned by the op (valid while it lives).
  std::span<const float> scale;
  std::span<const float> shift;
};

}  // namespace dim::core
