// Launchers of the element-wise and row kernels in kernels.cu. Plain C++ declarations, so
// host code compiled by the C++ compiler calls them without the CUDA headers.
//
// Each launcher queues its kernel on `stream` and returns the launch's cudaError_t as an
// int (0: cudaSuccess); errors while the kernel runs surface at the next synchronisation.
// Sizes are element counts; nothing is launched for 0 elements. Outputs may be the same
// buffer as the (first) input where noted "in place".
#pragma once

#include <cstdint>

struct CUstream_st;  // cudaStream_t is CUstream_st*.

namespace dim::core::cuda {

using Stream = CUstream_st*;

// The unary functions, numbered as OpSpec::UnaryFn.
enum class UnaryKernel : int { kRelu = 0, kLeakyRelu = 1, kSigmoid = 2, kTanh = 3, kClip = 4 };
// The binary functions, numbered as OpSpec::BinaryFn.
enum class BinaryKernel : int { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };

// y = fn(x) over n elements; `alpha` is LeakyRelu's slope, [lo, hi] Clip's bounds. In place.
int LaunchUnary(UnaryKernel fn, float alpha, float lo, float hi, const float* x, float* y,
                int64_t n, Stream stream);

// The most dimensions a broadcast may have after merging neighbours that broadcast alike.
inline constexpr int kMaxBroadcastRank = 6;

// The output's dimensions and, per operand, the element stride along each (0 where the
// operand repeats). rank 0 is a single element.
struct BroadcastLayout {
  int rank = 0;
  int64_t dims[kMaxBroadcastRank] = {};
  int64_t a_stride[kMaxBroadcastRank] = {};
  int64_t b_stride[kMaxBroadcastRank] = {};
};

// y[i] = a[...] fn b[...] over the n elements of the layout's output. In place for a when
// a has the output's shape.
int LaunchBinary(BinaryKernel fn, const float* a, const float* b, float* y, int64_t n,
                 const BroadcastLayout& layout, Stream stream);

// y (rows x cols) = beta * c broadcast, c being c_rows x c_cols with each 1 or y's size.
int LaunchBroadcastFill(const float* c, int64_t c_rows, int64_t c_cols, float beta, float* y,
                        int64_t rows, int64_t cols, Stream stream);

// Softmax (or, with `log`, LogSoftmax) of x seen as [outer, len, inner] over the middle
// dimension, numerically stable (the maximum is subtracted first). In place.
int LaunchSoftmax(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, bool log,
                  Stream stream);

// y = x * scale[c] + shift[c] for x seen as [n / (channels * inner), channels, inner]. In
// place.
int LaunchChannelAffine(const float* x, float* y, const float* scale, const float* shift, int64_t n,
                        int64_t channels, int64_t inner, Stream stream);

// y[o, i] = the index k of the largest x[o, k, i] for x seen as [outer, len, inner], as a
// float; ties go to the first index, or the last with `last`. Not in place.
int LaunchArgMax(const float* x, float* y, int64_t outer, int64_t len, int64_t inner, bool last,
                 Stream stream);

}  // namespace dim::core::cuda
