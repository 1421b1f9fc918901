#include "core/infer/cuda/device_steps.h"

#include <algorithm>
#include <climits>
#include <initializer_list>
#include <string>

#include "core/infer/cuda/cublas_library.h"
#include "core/infer/cuda/cuda_status.h"
#include "core/infer/cuda/kernels.h"
#include "core/infer/tensor.h"

namespace dim::core::cuda {
namespace {

Status Unhandled(const std::string& why) { return Status::Unimplemented(why); }

Status Launched(int error, const char* kernel) {
  return CudaCheck(static_cast<cudaError_t>(error), kernel);
}

// cuBLAS takes int dimensions and leading dimensions.
bool FitsInt(std::initializer_list<int64_t> values) {
  return std::all_of(values.begin(), values.end(),
                     [](int64_t v) { return v >= 0 && v <= INT_MAX; });
}

int AsInt(int64_t v) { return static_cast<int>(v); }

Result<DeviceTensor> Allocate(std::vector<int64_t> shape, const StepEnv& env) {
  DeviceTensor t;
  DIM_ASSIGN_OR_RETURN(t.buffer, DeviceBuffer::InStream(NumElements(shape), env.pool, env.stream));
  t.shape = std::move(shape);
  return t;
}

// The output of an element-wise step: input `in`'s own buffer when the step may overwrite
// it, a new one otherwise.
Result<DeviceTensor> ElementWiseOutput(const StepInput& in, std::vector<int64_t> shape,
                                       const StepEnv& env) {
  if (in.exclusive && in.buffer && in.size == NumElements(shape)) {
    return DeviceTensor{in.buffer, std::move(shape)};
  }
  return Allocate(std::move(shape), env);
}

Status Zero(const DeviceTensor& t, const StepEnv& env) {
  const int64_t n = NumElements(t.shape);
  if (n == 0) return Status::Ok();
  return CudaCheck(cudaMemsetAsync(t.data(), 0, static_cast<size_t>(n) * sizeof(float), env.stream),
                   "cudaMemsetAsync");
}

// Row-major Y (m x n) = alpha * op(A) * op(B) + beta * Y, A and B row-major with `lda`
// and `ldb` floats per row. cuBLAS is column-major, and a row-major matrix is its
// transpose seen column-major, so it computes Y^T = op(B)^T * op(A)^T: B first.
Status RowMajorGemm(const StepEnv& env, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    float alpha, const float* a, int64_t lda, const float* b, int64_t ldb,
                    float beta, float* y) {
  return CublasCheck(
      Cublas().sgemm(env.cublas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                  trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, AsInt(n), AsInt(m), AsInt(k), &alpha, b,
                  AsInt(std::max<int64_t>(ldb, 1)), a, AsInt(std::max<int64_t>(lda, 1)), &beta, y,
                  AsInt(std::max<int64_t>(n, 1))),
      "cublasSgemm");
}

Result<DeviceTensor> RunGemm(const OpSpec& spec, std::vector<StepInput>& in,
                             std::vector<int64_t> out_shape, const StepEnv& env) {
  const StepInput& a = in[0];
  const StepInput& b = in[1];
  if (a.shape.size() != 2 || b.shape.size() != 2) return Status::Internal("Gemm: A or B not 2-D");
  const int64_t m = spec.trans_a ? a.shape[1] : a.shape[0];
  const int64_t k = spec.trans_a ? a.shape[0] : a.shape[1];
  const int64_t n = spec.trans_b ? b.shape[0] : b.shape[1];
  if (k != (spec.trans_b ? b.shape[1] : b.shape[0]) || out_shape != std::vector<int64_t>{m, n}) {
    return Status::Internal("Gemm: shape mismatch");
  }
  if (!FitsInt({m, n, k, a.shape[1], b.shape[1]})) return Unhandled("Gemm: too large for cuBLAS");
  const bool has_c = spec.beta != 0.0f && in.size() > 2 && in[2].present;
  int64_t c_rows = 1;
  int64_t c_cols = 1;
  if (has_c) {
    const StepInput& c = in[2];
    if (c.shape.size() > 2) return Status::Internal("Gemm: C has more than 2 dimensions");
    if (c.shape.size() == 2) c_rows = c.shape[0];
    if (!c.shape.empty()) c_cols = c.shape.back();
    if ((c_rows != 1 && c_rows != m) || (c_cols != 1 && c_cols != n)) {
      return Status::Internal("Gemm: C does not broadcast");
    }
  }
  DIM_ASSIGN_OR_RETURN(DeviceTensor y, Allocate(std::move(out_shape), env));
  if (m == 0 || n == 0) return y;
  if (has_c) {
    DIM_RETURN_IF_ERROR(Launched(
        LaunchBroadcastFill(in[2].data, c_rows, c_cols, spec.beta, y.data(), m, n, env.stream),
        "BroadcastFill"));
  }
  if (k == 0) {
    if (!has_c) DIM_RETURN_IF_ERROR(Zero(y, env));
    return y;
  }
  DIM_RETURN_IF_ERROR(RowMajorGemm(env, spec.trans_a, spec.trans_b, m, n, k, spec.alpha, a.data,
                                   a.shape[1], b.data, b.shape[1], has_c ? 1.0f : 0.0f, y.data()));
  return y;
}

// numpy matmul: A's matrices times one B (a single product over all of A's rows), or
// batches where each operand is either a full stack or a single matrix (strided batched).
// Other batch broadcasts run on the CPU.
Result<DeviceTensor> RunMatMul(std::vector<StepInput>& in, std::vector<int64_t> out_shape,
                               const StepEnv& env) {
  const std::vector<int64_t>& as = in[0].shape;
  const std::vector<int64_t>& bs = in[1].shape;
  if (as.empty() || bs.empty()) return Status::Internal("MatMul: scalar operand");
  const int64_t m = as.size() == 1 ? 1 : as[as.size() - 2];
  const int64_t k = as.back();
  const int64_t kb = bs.size() == 1 ? bs[0] : bs[bs.size() - 2];
  const int64_t n = bs.size() == 1 ? 1 : bs.back();
  if (k != kb) return Status::Internal("MatMul: shape mismatch");
  const std::vector<int64_t> a_batch(as.begin(), as.end() - std::min<size_t>(as.size(), 2));
  const std::vector<int64_t> b_batch(bs.begin(), bs.end() - std::min<size_t>(bs.size(), 2));
  // The output is the broadcast batch, then m unless A is 1-D, then n unless B is 1-D.
  const size_t tail = (as.size() >= 2 ? 1 : 0) + (bs.size() >= 2 ? 1 : 0);
  if (out_shape.size() < tail) return Status::Internal("MatMul: output rank");
  const std::vector<int64_t> out_batch(out_shape.begin(),
                                       out_shape.end() - static_cast<std::ptrdiff_t>(tail));
  const int64_t a_count = NumElements(a_batch);
  const int64_t count = NumElements(out_batch);

  if (b_batch.empty()) {
    const int64_t rows = a_count * m;
    if (!FitsInt({rows, n, k})) return Unhandled("MatMul: too large for cuBLAS");
    DIM_ASSIGN_OR_RETURN(DeviceTensor y, Allocate(std::move(out_shape), env));
    if (rows == 0 || n == 0) return y;
    if (k == 0) {
      DIM_RETURN_IF_ERROR(Zero(y, env));
      return y;
    }
    DIM_RETURN_IF_ERROR(RowMajorGemm(env, false, false, rows, n, k, 1.0f, in[0].data, k, in[1].data,
                                     n, 0.0f, y.data()));
    return y;
  }

  // Each operand must be a full stack (the output's batch) or a single matrix.
  const bool a_full = a_batch == out_batch;
  const bool b_full = b_batch == out_batch;
  if ((!a_full && a_count != 1) || (!b_full && NumElements(b_batch) != 1)) {
    return Unhandled("MatMul: batch broadcast not handled on the device");
  }
  if (!FitsInt({m, n, k, count})) return Unhandled("MatMul: too large for cuBLAS");
  DIM_ASSIGN_OR_RETURN(DeviceTensor y, Allocate(std::move(out_shape), env));
  if (count == 0 || m == 0 || n == 0) return y;
  if (k == 0) {
    DIM_RETURN_IF_ERROR(Zero(y, env));
    return y;
  }
  const float alpha = 1.0f;
  const float beta = 0.0f;
  // As in RowMajorGemm: Y_i^T = B_i^T * A_i^T, B first.
  DIM_RETURN_IF_ERROR(CublasCheck(
      Cublas().sgemm_strided_batched(
          env.cublas, CUBLAS_OP_N, CUBLAS_OP_N, AsInt(n), AsInt(m), AsInt(k), &alpha, in[1].data,
          AsInt(std::max<int64_t>(n, 1)), b_full ? static_cast<long long>(k * n) : 0LL, in[0].data,
          AsInt(std::max<int64_t>(k, 1)), a_full ? static_cast<long long>(m * k) : 0LL, &beta,
          y.data(), AsInt(std::max<int64_t>(n, 1)), static_cast<long long>(m * n), AsInt(count)),
      "cublasSgemmStridedBatched"));
  return y;
}

// The broadcast of a and b to `out`, with neighbouring dimensions that broadcast alike
// merged; false when more than kMaxBroadcastRank dimensions remain.
bool PlanBroadcast(const std::vector<int64_t>& a_shape, const std::vector<int64_t>& b_shape,
                   const std::vector<int64_t>& out, BroadcastLayout& layout) {
  const size_t rank = out.size();
  if (a_shape.size() > rank || b_shape.size() > rank) return false;
  std::vector<int64_t> sizes;
  std::vector<bool> a_full;
  std::vector<bool> b_full;
  for (size_t i = 0; i < rank; ++i) {
    if (out[i] == 1) continue;
    const size_t ai = i + a_shape.size() - rank;  // Wraps for padded dims: checked below.
    const size_t bi = i + b_shape.size() - rank;
    const bool af = i + a_shape.size() >= rank && a_shape[ai] == out[i];
    const bool bf = i + b_shape.size() >= rank && b_shape[bi] == out[i];
    if (!sizes.empty() && a_full.back() == af && b_full.back() == bf) {
      sizes.back() *= out[i];
    } else {
      sizes.push_back(out[i]);
      a_full.push_back(af);
      b_full.push_back(bf);
    }
  }
  if (sizes.size() > static_cast<size_t>(kMaxBroadcastRank)) return false;
  layout = BroadcastLayout();
  layout.rank = static_cast<int>(sizes.size());
  int64_t a_stride = 1;
  int64_t b_stride = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    layout.dims[i] = sizes[i];
    layout.a_stride[i] = a_full[i] ? a_stride : 0;
    layout.b_stride[i] = b_full[i] ? b_stride : 0;
    if (a_full[i]) a_stride *= sizes[i];
    if (b_full[i]) b_stride *= sizes[i];
  }
  return true;
}

Result<DeviceTensor> RunBinary(const OpSpec& spec, std::vector<StepInput>& in,
                               std::vector<int64_t> out_shape, const StepEnv& env) {
  const StepInput& a = in[0];
  const StepInput& b = in[1];
  const int64_t n = NumElements(out_shape);
  // Every operand dimension must be 1 or the output's (ONNX broadcasting).
  for (const StepInput* x : {&a, &b}) {
    if (x->shape.size() > out_shape.size()) return Status::Internal("binary: rank mismatch");
    for (size_t i = 0; i < x->shape.size(); ++i) {
      const int64_t o = out_shape[i + out_shape.size() - x->shape.size()];
      if (x->shape[i] != 1 && x->shape[i] != o) return Status::Internal("shapes do not broadcast");
    }
  }
  BroadcastLayout layout;
  if (!PlanBroadcast(a.shape, b.shape, out_shape, layout)) {
    return Unhandled("broadcast of more than 6 dimensions");
  }
  // In place only when A covers the whole output, so that y[i] reads a[i] and nothing else.
  DeviceTensor y;
  if (a.size == n) {
    DIM_ASSIGN_OR_RETURN(y, ElementWiseOutput(a, std::move(out_shape), env));
  } else {
    DIM_ASSIGN_OR_RETURN(y, Allocate(std::move(out_shape), env));
  }
  DIM_RETURN_IF_ERROR(Launched(LaunchBinary(static_cast<BinaryKernel>(spec.binary), a.data, b.data,
                                            y.data(), n, layout, env.stream),
                               "Binary"));
  return y;
}

Result<DeviceTensor> RunUnary(const OpSpec& spec, std::vector<StepInput>& in,
                              std::vector<int64_t> out_shape, const StepEnv& env) {
  const StepInput& x = in[0];
  if (x.size != NumElements(out_shape)) return Status::Internal("unary: shape mismatch");
  DIM_ASSIGN_OR_RETURN(DeviceTensor y, ElementWiseOutput(x, std::move(out_shape), env));
  DIM_RETURN_IF_ERROR(
      Launched(LaunchUnary(static_cast<UnaryKernel>(spec.unary), spec.alpha, spec.min, spec.max,
                           x.data, y.data(), x.size, env.stream),
               "Unary"));
  return y;
}

// x seen as [outer, shape[axis], inner].
void SplitAt(const std::vector<int64_t>& shape, int64_t axis, int64_t& outer, int64_t& len,
             int64_t& inner) {
  outer = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= shape[static_cast<size_t>(i)];
  len = shape[static_cast<size_t>(axis)];
  inner = 1;
  for (size_t i = static_cast<size_t>(axis) + 1; i < shape.size(); ++i) inner *= shape[i];
}

Result<DeviceTensor> RunSoftmax(const OpSpec& spec, std::vector<StepInput>& in,
                                std::vector<int64_t> out_shape, const StepEnv& env) {
  const StepInput& x = in[0];
  if (spec.axis >= static_cast<int64_t>(x.shape.size()) || x.shape != out_shape) {
    return Status::Internal("softmax: shape mismatch");
  }
  int64_t outer = 0;
  int64_t len = 0;
  int64_t inner = 0;
  SplitAt(x.shape, spec.axis, outer, len, inner);
  if (spec.coerce_2d) {  // Normalised over everything from the axis on.
    len *= inner;
    inner = 1;
  }
  DIM_ASSIGN_OR_RETURN(DeviceTensor y, ElementWiseOutput(x, std::move(out_shape), env));
  DIM_RETURN_IF_ERROR(Launched(
      LaunchSoftmax(x.data, y.data(), outer, len, inner, spec.log, env.stream), "Softmax"));
  return y;
}

Result<DeviceTensor> RunBatchNorm(const StepConstants& constants, std::vector<StepInput>& in,
                                  std::vector<int64_t> out_shape, const StepEnv& env) {
  const StepInput& x = in[0];
  if (x.shape.size() < 2 || x.shape != out_shape || constants.scale == nullptr ||
      constants.shift == nullptr) {
    return Status::Internal("BatchNormalization: shape mismatch");
  }
  const int64_t channels = x.shape[1];
  const int64_t inner = x.size / std::max<int64_t>(x.shape[0] * channels, 1);
  DIM_ASSIGN_OR_RETURN(DeviceTensor y, ElementWiseOutput(x, std::move(out_shape), env));
  DIM_RETURN_IF_ERROR(
      Launched(LaunchChannelAffine(x.data, y.data(), constants.scale->data(),
                                   constants.shift->data(), x.size, channels, inner, env.stream),
               "ChannelAffine"));
  return y;
}

Result<DeviceTensor> RunConcat(const OpSpec& spec, std::vector<StepInput>& in,
                               std::vector<int64_t> out_shape, const StepEnv& env) {
  const size_t axis = static_cast<size_t>(spec.axis);
  if (axis >= out_shape.size()) return Status::Internal("Concat: axis out of range");
  int64_t outer = 1;
  for (size_t d = 0; d < axis; ++d) outer *= out_shape[d];
  const int64_t total = NumElements(out_shape);
  const int64_t row = outer == 0 ? 0 : total / outer;  // Output floats per outer index.
  int64_t sum = 0;
  for (const StepInput& x : in) sum += outer == 0 ? 0 : x.size / outer;
  if (sum != row) return Status::Internal("Concat: sizes do not add up");
  DIM_ASSIGN_OR_RETURN(DeviceTensor y, Allocate(std::move(out_shape), env));
  int64_t offset = 0;
  for (const StepInput& x : in) {
    const int64_t chunk = outer == 0 ? 0 : x.size / outer;
    if (chunk > 0) {
      // One 2-D copy per input: `outer` rows of `chunk` floats into rows `row` floats apart.
      DIM_RETURN_IF_ERROR(CudaCheck(
          cudaMemcpy2DAsync(y.data() + offset, static_cast<size_t>(row) * sizeof(float), x.data,
                            static_cast<size_t>(chunk) * sizeof(float),
                            static_cast<size_t>(chunk) * sizeof(float), static_cast<size_t>(outer),
                            cudaMemcpyDeviceToDevice, env.stream),
          "cudaMemcpy2DAsync"));
    }
    offset += chunk;
  }
  return y;
}

Result<DeviceTensor> RunArgMax(const OpSpec& spec, std::vector<StepInput>& in,
                               std::vector<int64_t> out_shape, const StepEnv& env) {
  const StepInput& x = in[0];
  if (spec.axis >= static_cast<int64_t>(x.shape.size())) return Status::Internal("ArgMax: axis");
  int64_t outer = 0;
  int64_t len = 0;
  int64_t inner = 0;
  SplitAt(x.shape, spec.axis, outer, len, inner);
  if (NumElements(out_shape) != outer * inner) return Status::Internal("ArgMax: shape mismatch");
  DIM_ASSIGN_OR_RETURN(DeviceTensor y, Allocate(std::move(out_shape), env));
  DIM_RETURN_IF_ERROR(Launched(
      LaunchArgMax(x.data, y.data(), outer, len, inner, spec.last_index, env.stream), "ArgMax"));
  return y;
}

// The same floats under a new shape: the input's buffer, shared, when it is a value.
Result<DeviceTensor> RunReshape(std::vector<StepInput>& in, std::vector<int64_t> out_shape,
                                const StepEnv& env) {
  const StepInput& x = in[0];
  if (x.size != NumElements(out_shape)) return Status::Internal("reshape: element counts differ");
  if (x.buffer) return DeviceTensor{x.buffer, std::move(out_shape)};
  DIM_ASSIGN_OR_RETURN(DeviceTensor y, Allocate(std::move(out_shape), env));
  if (x.size > 0) {
    DIM_RETURN_IF_ERROR(
        CudaCheck(cudaMemcpyAsync(y.data(), x.data, static_cast<size_t>(x.size) * sizeof(float),
                                  cudaMemcpyDeviceToDevice, env.stream),
                  "cudaMemcpyAsync"));
  }
  return y;
}

}  // namespace

Result<DeviceTensor> RunStepOnDevice(const OpSpec& spec, const StepConstants& constants,
                                     std::vector<StepInput>& inputs,
                                     std::vector<int64_t> output_shape, const StepEnv& env) {
  using Kind = OpSpec::Kind;
  const size_t required =
      spec.kind == Kind::kGemm || spec.kind == Kind::kMatMul || spec.kind == Kind::kBinary ? 2 : 1;
  if (spec.kind == Kind::kOther) return Unhandled("no device kernel");
  if (inputs.size() < required) return Status::Internal("missing inputs");
  for (size_t i = 0; i < required; ++i) {
    if (!inputs[i].present) return Status::Internal("missing input " + std::to_string(i));
  }
  switch (spec.kind) {
    case Kind::kGemm:
      return RunGemm(spec, inputs, std::move(output_shape), env);
    case Kind::kMatMul:
      return RunMatMul(inputs, std::move(output_shape), env);
    case Kind::kBinary:
      return RunBinary(spec, inputs, std::move(output_shape), env);
    case Kind::kUnary:
      return RunUnary(spec, inputs, std::move(output_shape), env);
    case Kind::kSoftmax:
      return RunSoftmax(spec, inputs, std::move(output_shape), env);
    case Kind::kBatchNorm:
      return RunBatchNorm(constants, inputs, std::move(output_shape), env);
    case Kind::kConcat:
      for (const StepInput& x : inputs) {
        if (!x.present) return Status::Internal("Concat: missing input");
      }
      return RunConcat(spec, inputs, std::move(output_shape), env);
    case Kind::kArgMax:
      return RunArgMax(spec, inputs, std::move(output_shape), env);
    case Kind::kReshape:
      return RunReshape(inputs, std::move(output_shape), env);
    case Kind::kOther:
      break;
  }
  return Unhandled("no device kernel");
}

}  // namespace dim::core::cuda
