#include "core/infer/ops/packed_gemm.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace dim::core {
namespace {

// The widest vector the build targets (-march=native), as a GCC vector type.
#if defined(__AVX512F__)
constexpr int kLanes = 16;
constexpr int kRows = 12;  // 24 accumulators of the 32 registers.
#elif defined(__AVX__)
constexpr int kLanes = 8;
constexpr int kRows = 6;  // 12 accumulators of the 16 registers.
#else
constexpr int kLanes = 4;
constexpr int kRows = 6;
#endif
typedef float Vec __attribute__((vector_size(kLanes * sizeof(float))));
constexpr int64_t kPanel = 2 * kLanes;  // Columns per panel: two vectors.
constexpr size_t kAlign = 64;

inline Vec Load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline void Store(float* p, Vec v) { std::memcpy(p, &v, sizeof(v)); }

// R rows (R <= kRows) of one panel: y[i][0..cols) = x[i] . panel + bias.
template <int R>
void Kernel(const float* x, int64_t ldx, const float* panel, int64_t k, const float* bias, float* y,
            int64_t ldy, int64_t cols) {
  Vec acc[R][2];
  const Vec b0 = bias != nullptr ? Load(bias) : Vec{};
  const Vec b1 = bias != nullptr ? Load(bias + kLanes) : Vec{};
  for (int i = 0; i < R; ++i) {
    acc[i][0] = b0;
    acc[i][1] = b1;
  }
  for (int64_t kk = 0; kk < k; ++kk) {
    const Vec p0 = Load(panel + kk * kPanel);
    const Vec p1 = Load(panel + kk * kPanel + kLanes);
#pragma GCC unroll 12
    for (int i = 0; i < R; ++i) {
      const float a = x[i * ldx + kk];
      acc[i][0] += a * p0;
      acc[i][1] += a * p1;
    }
  }
  for (int i = 0; i < R; ++i) {
    float* out = y + i * ldy;
    if (cols == kPanel) {
      Store(out, acc[i][0]);
      Store(out + kLanes, acc[i][1]);
    } else {
      float tmp[kPanel];
      Store(tmp, acc[i][0]);
      Store(tmp + kLanes, acc[i][1]);
      std::copy_n(tmp, cols, out);
    }
  }
}

using KernelFn = void (*)(const float*, int64_t, const float*, int64_t, const float*, float*,
                          int64_t, int64_t);

template <int... R>
constexpr auto MakeKernels(std::integer_sequence<int, R...>) {
  return std::array<KernelFn, sizeof...(R)>{&Kernel<R + 1>...};
}
// kKernels[r - 1] handles r rows.
constexpr auto kKernels = MakeKernels(std::make_integer_sequence<int, kRows>{});

void Free(float* p) { ::operator delete[](p, std::align_val_t(kAlign)); }

}  // namespace

PackedMatrix::PackedMatrix(const float* b, int64_t k, int64_t n, int64_t row_stride,
                           int64_t col_stride, float scale, std::span<const float> bias)
    : k_(k),
      n_(n),
      panels_((n + kPanel - 1) / kPanel),
      data_(nullptr, &Free),
      has_bias_(!bias.empty()) {
  const size_t size = static_cast<size_t>(panels_ * kPanel * (k + 1));
  data_.reset(new (std::align_val_t(kAlign)) float[size]());
  float* out = data_.get();
  for (int64_t p = 0; p < panels_; ++p) {
    for (int64_t r = 0; r < k; ++r) {
      for (int64_t j = 0; j < kPanel; ++j) {
        const int64_t c = p * kPanel + j;
        *out++ = c < n ? scale * b[r * row_stride + c * col_stride] : 0.0f;
      }
    }
  }
  for (int64_t c = 0; c < static_cast<int64_t>(bias.size()); ++c)
    out[c] = bias[static_cast<size_t>(c)];
}

void PackedMatrix::Multiply(const float* x, int64_t m, int64_t ldx, float* y, int64_t ldy) const {
  const float* bias = has_bias_ ? data_.get() + panels_ * kPanel * k_ : nullptr;
  for (int64_t r = 0; r < m; r += kRows) {
    const int64_t rows = std::min<int64_t>(kRows, m - r);
    const KernelFn kernel = kKernels[static_cast<size_t>(rows - 1)];
    for (int64_t p = 0; p < panels_; ++p) {
      kernel(x + r * ldx, ldx, data_.get() + p * kPanel * k_, k_,
             bias != nullptr ? bias + p * kPanel : nullptr, y + r * ldy + p * kPanel, ldy,
             std::min<int64_t>(kPanel, n_ - p * kPanel));
    }
  }
}

}  // namespace dim::core
