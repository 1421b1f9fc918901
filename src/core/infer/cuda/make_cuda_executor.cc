// MakeCudaExecutor (device_executor.h) for a build with CUDA.
#include "core/infer/cuda/cuda_executor.h"
#include "core/infer/device_executor.h"

namespace dim::core {

Result<std::unique_ptr<DeviceExecutor>> MakeCudaExecutor(const Graph& graph) {
  DIM_ASSIGN_OR_RETURN(std::unique_ptr<cuda::CudaExecutor> executor,
                       cuda::CudaExecutor::Create(graph));
  return std::unique_ptr<DeviceExecutor>(std::move(executor));
}

}  // namespace dim::core
