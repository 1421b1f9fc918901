#include "core/infer/cuda/context_pool.h"

#include "core/infer/cuda/cublas_library.h"
#include "core/infer/cuda/cuda_status.h"

namespace dim::core::cuda {

Result<std::unique_ptr<CallContext>> CallContext::Create() {
  std::unique_ptr<CallContext> context(new CallContext());
  // Non-blocking: calls on other threads' streams must not wait for the legacy stream.
  DIM_RETURN_IF_ERROR(CudaCheck(cudaStreamCreateWithFlags(&context->stream_, cudaStreamNonBlocking),
                                "cudaStreamCreateWithFlags"));
  DIM_RETURN_IF_ERROR(CublasCheck(Cublas().create(&context->cublas_), "cublasCreate"));
  DIM_RETURN_IF_ERROR(
      CublasCheck(Cublas().set_stream(context->cublas_, context->stream_), "cublasSetStream"));
  // Full float32 products: TF32 tensor cores would miss the 1e-5 agreement with the CPU.
  DIM_RETURN_IF_ERROR(
      CublasCheck(Cublas().set_math_mode(context->cublas_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode"));
  return context;
}

CallContext::~CallContext() {
  if (cublas_ != nullptr) (void)Cublas().destroy(cublas_);
  if (stream_ != nullptr) (void)cudaStreamDestroy(stream_);
}

Result<ContextPool::Lease> ContextPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<CallContext> context = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(context));
    }
  }
  DIM_ASSIGN_OR_RETURN(std::unique_ptr<CallContext> context, CallContext::Create());
  return Lease(this, std::move(context));
}

void ContextPool::Return(std::unique_ptr<CallContext> context) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(context));
}

}  // namespace dim::core::cuda
