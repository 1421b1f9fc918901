// Y = X * B + bias for a constant B, packed once at load time into column panels that the
// micro-kernel streams with aligned vector loads: what dense layers (Gemm with constant
// weights) run on the CPU. Eigen packs both operands on every product; with B packed ahead,
// only X is read as it is, and the bias comes in with the accumulators.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace dim::core {

class PackedMatrix final {
 public:
  // B is k x n: element (r, c) at b[r * row_stride + c * col_stride] (a row-major B has
  // strides (n, 1); a row-major B^T, ONNX's transB=1, has (1, k)). Every element is scaled
  // by `scale` (Gemm's alpha). `bias` is empty or n values added to every output row.
  PackedMatrix(const float* b, int64_t k, int64_t n, int64_t row_stride, int64_t col_stride,
               float scale, std::span<const float> bias);

  int64_t k() const { return k_; }
  int64_t n() const { return n_; }

  // y (m x n, row stride ldy) = x (m x k, row stride ldx) * B + bias.
  void Multiply(const float* x, int64_t m, int64_t ldx, float* y, int64_t ldy) const;

 private:
  int64_t k_;
  int64_t n_;
  int64_t panels_;
  // panels_ panels of k x kPanel floats, then panels_ x kPanel bias values (zero padded).
  std::unique_ptr<float[], void (*)(float*)> data_;
  bool has_bias_;
};

}  // namespace dim::core
