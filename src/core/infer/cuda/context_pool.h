// What one Run call needs on the device to itself: a stream, and a cuBLAS handle bound to
// it. Contexts are created on demand and reused, so concurrent calls run side by side.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <memory>
#include <mutex>
#include <vector>

#include "core/status.h"

namespace dim::core::cuda {

class CallContext final {
 public:
  // A non-blocking stream and a cuBLAS handle on the current device.
  static Result<std::unique_ptr<CallContext>> Create();
  ~CallContext();
  CallContext(const CallContext&) = delete;
  CallContext& operator=(const CallContext&) = delete;

  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }

 private:
  CallContext() = default;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
};

// Thread-safe. Must outlive its leases.
class ContextPool final {
 public:
  // A context held by one call, back to the pool when the lease is destroyed.
  class Lease final {
   public:
    Lease(ContextPool* pool, std::unique_ptr<CallContext> context)
        : pool_(pool), context_(std::move(context)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (context_) pool_->Return(std::move(context_));
    }
    const CallContext& operator*() const { return *context_; }
    const CallContext* operator->() const { return context_.get(); }

   private:
    ContextPool* pool_;
    std::unique_ptr<CallContext> context_;
  };

  // An idle context, or a new one (the errors of CallContext::Create).
  Result<Lease> Acquire();

 private:
  void Return(std::unique_ptr<CallContext> context);

  std::mutex mu_;
  std::vector<std::unique_ptr<CallContext>> idle_;
};

}  // namespace dim::core::cuda
