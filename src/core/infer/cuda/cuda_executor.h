// A graph's plan run on a CUDA GPU: matrix products with cuBLAS, element-wise operators
// with the kernels in kernels.cu, and every step without a device kernel on the CPU op,
// its inputs copied down and its outputs up, so whatever loads on the CPU runs here too.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>
#include <vector>

#include "core/infer/cuda/context_pool.h"
#include "core/infer/cuda/device_buffer.h"
#include "core/infer/cuda/device_steps.h"
#include "core/infer/device_executor.h"
#include "core/infer/graph.h"

namespace dim::core::cuda {

// Thread-safety: Run may be called from many threads at once; each call has its own
// stream and cuBLAS handle (a ContextPool lease) and its own device buffers.
class CudaExecutor final : public DeviceExecutor {
 public:
  // Copies the constants (weights) and per-step factors to device 0 once. `graph` must
  // outlive the executor. Errors as MakeCudaExecutor (device_executor.h).
  static Result<std::unique_ptr<CudaExecutor>> Create(const Graph& graph);
  ~CudaExecutor() override;

  Result<Tensor> Run(const float* input, int64_t rows) const override;

 private:
  struct StepPlan {
    OpSpec spec;
    StepConstants constants;
  };

  CudaExecutor(const Graph& graph, int device) : graph_(graph), device_(device) {}

  // Runs step `s` with its CPU op: inputs down, outputs up.
  Status RunOnCpu(size_t s, std::vector<DeviceTensor>& values, const StepEnv& env) const;

  const Graph& graph_;
  int device_;
  // Per-call buffers come from this pool; it keeps freed memory for the next calls.
  cudaMemPool_t pool_ = nullptr;
  std::vector<std::unique_ptr<DeviceBuffer>> constants_;  // As the plan's constants.
  std::vector<StepPlan> steps_;                           // As the plan's steps.
  mutable ContextPool contexts_;
};

}  // namespace dim::core::cuda
