// The CUDA kernels behind kernels.h. Compiled by nvcc only; the host code that decides what
// to launch is in the .cc files next to this one.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>

#include "core/infer/cuda/kernels.h"

namespace dim::core::cuda {
namespace {

constexpr int kThreads = 256;
// Grid-stride loops cover any size; more blocks than this only add scheduling overhead.
constexpr int64_t kMaxBlocks = 65535;

int Blocks(int64_t n, int threads = kThreads) {
  return static_cast<int>(std::min<int64_t>((n + threads - 1) / threads, kMaxBlocks));
}

int LaunchResult() { return static_cast<int>(cudaGetLastError()); }

__device__ int64_t GlobalIndex() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ int64_t GridStride() { return static_cast<int64_t>(gridDim.x) * blockDim.x; }

template <UnaryKernel Fn>
__device__ float Unary(float x, float alpha, float lo, float hi) {
  if constexpr (Fn == UnaryKernel::kRelu) {
    return x > 0.0f ? x : 0.0f;
  } else if constexpr (Fn == UnaryKernel::kLeakyRelu) {
    return x >= 0.0f ? x : alpha * x;
  } else if constexpr (Fn == UnaryKernel::kSigmoid) {
    return 1.0f / (1.0f + expf(-x));
  } else if constexpr (Fn == UnaryKernel::kTanh) {
    return tanhf(x);
  } else {
    return fminf(fmaxf(x, lo), hi);
  }
}

template <UnaryKernel Fn>
__global__ void UnaryKernelFn(const float* x, float* y, int64_t n, float alpha, float lo,
                              float hi) {
  for (int64_t i = GlobalIndex(); i < n; i += GridStride()) y[i] = Unary<Fn>(x[i], alpha, lo, hi);
}

template <BinaryKernel Fn>
__device__ float Binary(float a, float b) {
  if constexpr (Fn == BinaryKernel::kAdd) {
    return a + b;
  } else if constexpr (Fn == BinaryKernel::kSub) {
    return a - b;
  } else if constexpr (Fn == BinaryKernel::kMul) {
    return a * b;
  } else {
    return a / b;
  }
}

// kFlat: the layout has one dimension, so offsets need no division.
template <BinaryKernel Fn, bool kFlat>
__global__ void BinaryKernelFn(const float* a, const float* b, float* y, int64_t n,
                               BroadcastLayout layout) {
  for (int64_t i = GlobalIndex(); i < n; i += GridStride()) {
    int64_t a_offset = 0;
    int64_t b_offset = 0;
    if constexpr (kFlat) {
      a_offset = i * layout.a_stride[0];
      b_offset = i * layout.b_stride[0];
    } else {
      int64_t rest = i;
      for (int d = layout.rank - 1; d >= 0; --d) {
        const int64_t index = rest % layout.dims[d];
        rest /= layout.dims[d];
        a_offset += index * layout.a_stride[d];
        b_offset += index * layout.b_stride[d];
      }
    }
    y[i] = Binary<Fn>(a[a_offset], b[b_offset]);
  }
}

__global__ void BroadcastFillKernel(const float* c, int64_t c_rows, int64_t c_cols, float beta,
                                    float* y, int64_t rows, int64_t cols) {
  const int64_t n = rows * cols;
  for (int64_t i = GlobalIndex(); i < n; i += GridStride()) {
    const int64_t r = i / cols;
    const int64_t col = i % cols;
    y[i] = beta * c[(c_rows == 1 ? 0 : r) * c_cols + (c_cols == 1 ? 0 : col)];
  }
}

// The maximum (or sum) of v over the block; blockDim.x is a multiple of 32, at most 1024.
// Every thread of the block must call it; `shared` holds 32 floats.
template <bool kMax>
__device__ float BlockReduce(float v, float* shared) {
  const auto combine = [](float x, float y) { return kMax ? fmaxf(x, y) : x + y; };
  for (int offset = 16; offset > 0; offset >>= 1) {
    v = combine(v, __shfl_down_sync(0xffffffffu, v, offset));
  }
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  if (warp == 0) {
    const int warps = static_cast<int>(blockDim.x >> 5);
    v = lane < warps ? shared[lane] : (kMax ? -INFINITY : 0.0f);
    for (int offset = 16; offset > 0; offset >>= 1) {
      v = combine(v, __shfl_down_sync(0xffffffffu, v, offset));
    }
    if (lane == 0) shared[0] = v;
  }
  __syncthreads();
  const float result = shared[0];
  __syncthreads();  // shared is reused by the next reduction.
  return result;
}

// One block per row of a [rows, len] matrix.
__global__ void SoftmaxRowsKernel(const float* x, float* y, int64_t rows, int64_t len, bool log) {
  __shared__ float shared[32];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const float* xr = x + r * len;
    float* yr = y + r * len;
    float max = -INFINITY;
    for (int64_t j = threadIdx.x; j < len; j += blockDim.x) max = fmaxf(max, xr[j]);
    max = BlockReduce<true>(max, shared);
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < len; j += blockDim.x) sum += expf(xr[j] - max);
    sum = BlockReduce<false>(sum, shared);
    if (log) {
      const float log_sum = logf(sum);
      for (int64_t j = threadIdx.x; j < len; j += blockDim.x) yr[j] = (xr[j] - max) - log_sum;
    } else {
      for (int64_t j = threadIdx.x; j < len; j += blockDim.x) yr[j] = expf(xr[j] - max) / sum;
    }
  }
}

// One thread per (outer, inner) column of [outer, len, inner].
__global__ void SoftmaxColumnsKernel(const float* x, float* y, int64_t outer, int64_t len,
                                     int64_t inner, bool log) {
  const int64_t columns = outer * inner;
  for (int64_t c = GlobalIndex(); c < columns; c += GridStride()) {
    const int64_t base = (c / inner) * len * inner + c % inner;
    float max = -INFINITY;
    for (int64_t k = 0; k < len; ++k) max = fmaxf(max, x[base + k * inner]);
    float sum = 0.0f;
    for (int64_t k = 0; k < len; ++k) sum += expf(x[base + k * inner] - max);
    const float log_sum = logf(sum);
    for (int64_t k = 0; k < len; ++k) {
      const float shifted = x[base + k * inner] - max;
      y[base + k * inner] = log ? shifted - log_sum : expf(shifted) / sum;
    }
  }
}

__global__ void ChannelAffineKernel(const float* x, float* y, const float* scale,
                                    const float* shift, int64_t n, int64_t channels,
                                    int64_t inner) {
  for (int64_t i = GlobalIndex(); i < n; i += GridStride()) {
    const int64_t c = (i / inner) % channels;
    y[i] = x[i] * scale[c] + shift[c];
  }
}

__global__ void ArgMaxKernel(const float* x, float* y, int64_t outer, int64_t len, int64_t inner,
                             bool last) {
  const int64_t columns = outer * inner;
  for (int64_t c = GlobalIndex(); c < columns; c += GridStride()) {
    const float* base = x + (c / inner) * len * inner + c % inner;
    int64_t best = 0;
    for (int64_t k = 1; k < len; ++k) {
      const float v = base[k * inner];
      const float b = base[best * inner];
      if (v > b || (last && v == b)) best = k;
    }
    y[c] = static_cast<float>(best);
  }
}

template <UnaryKernel Fn>
int StartUnary(const float* x, float* y, int64_t n, float alpha, float lo, float hi,
               Stream stream) {
  UnaryKernelFn<Fn><<<Blocks(n), kThreads, 0, stream>>>(x, y, n, alpha, lo, hi);
  return LaunchResult();
}

template <BinaryKernel Fn>
int StartBinary(const float* a, const float* b, float* y, int64_t n, const BroadcastLayout& layout,
                Stream stream) {
  if (layout.rank == 1) {
    BinaryKernelFn<Fn, true><<<Blocks(n), kThreads, 0, stream>>>(a, b, y, n, layout);
  } else {
    BinaryKernelFn<Fn, false><<<Blocks(n), kThreads, 0, stream>>>(a, b, y, n, layout);
  }
  return LaunchResult();
}

}  // namespace

int LaunchUnary(UnaryKernel fn, float alpha, float lo, float hi, const float* x, float* y,
                int64_t n, Stream stream) {
  if (n <= 0) return 0;
  switch (fn) {
    case UnaryKernel::kRelu:
      return StartUnary<UnaryKernel::kRelu>(x, y, n, alpha, lo, hi, stream);
    case UnaryKernel::kLeakyRelu:
      return StartUnary<UnaryKernel::kLeakyRelu>(x, y, n, alpha, lo, hi, stream);
    case UnaryKernel::kSigmoid:
      return StartUnary<UnaryKernel::kSigmoid>(x, y, n, alpha, lo, hi, stream);
    case UnaryKernel::kTanh:
      return StartUnary<UnaryKernel::kTanh>(x, y, n, alpha, lo, hi, stream);
    case UnaryKernel::kClip:
      return StartUnary<UnaryKernel::kClip>(x, y, n, alpha, lo, hi, stream);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

int LaunchBinary(BinaryKernel fn, const float* a, const float* b, float* y, int64_t n,
                 const BroadcastLayout& layout, Stream stream) {
  if (n <= 0) return 0;
  switch (fn) {
    case BinaryKernel::kAdd:
      return StartBinary<BinaryKernel::kAdd>(a, b, y, n, layout, stream);
    case BinaryKernel::kSub:
      return StartBinary<BinaryKernel::kSub>(a, b, y, n, layout, stream);
    case BinaryKernel::kMul:
      return StartBinary<BinaryKernel::kMul>(a, b, y, n, layout, stream);
    case BinaryKernel::kDiv:
      return StartBinary<BinaryKernel::kDiv>(a, b, y, n, layout, stream);
  }
  return static_cast<int>(cudaErrorInvalidValue);
}

int LaunchBroadcastFill(const float* c, int64_t c_rows, int64_t c_cols, float beta, float* y,
                        int64_t rows, int64_t cols, Stream stream) {
  const int64_t n = rows * cols;
  if (n <= 0) return 0;
  BroadcastFillKernel<<<Blocks(n), kThreads, 0, stream>>>(c, c_rows, c_cols, beta, y, rows, cols);
  return LaunchResult();
}

int LaunchSoftmax(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, bool log,
                  Stream stream) {
  if (outer <= 0 || len <= 0 || inner <= 0) return 0;
  if (inner == 1) {
    // A warp for short rows (a classifier's few classes), up to 256 threads for long ones.
    const int threads = len <= 32 ? 32 : len <= 128 ? 128 : kThreads;
    const int blocks = static_cast<int>(std::min<int64_t>(outer, kMaxBlocks));
    SoftmaxRowsKernel<<<blocks, threads, 0, stream>>>(x, y, outer, len, log);
  } else {
    SoftmaxColumnsKernel<<<Blocks(outer * inner), kThreads, 0, stream>>>(x, y, outer, len, inner,
                                                                         log);
  }
  return LaunchResult();
}

int LaunchChannelAffine(const float* x, float* y, const float* scale, const float* shift, int64_t n,
                        int64_t channels, int64_t inner, Stream stream) {
  if (n <= 0 || channels <= 0 || inner <= 0) return 0;
  ChannelAffineKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, scale, shift, n, channels, inner);
  return LaunchResult();
}

int LaunchArgMax(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, bool last,
                 Stream stream) {
  if (outer <= 0 || len <= 0 || inner <= 0) return 0;
  ArgMaxKernel<<<Blocks(outer * inner), kThreads, 0, stream>>>(x, y, outer, len, inner, last);
  return LaunchResult();
}

}  // namespace dim::core::cuda
