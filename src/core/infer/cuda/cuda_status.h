// CUDA runtime and cuBLAS return codes as Status (host code only; needs the CUDA headers).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <string_view>

#include "core/status.h"

namespace dim::core::cuda {

// OK for cudaSuccess. RESOURCE_EXHAUSTED for cudaErrorMemoryAllocation ("out of GPU
// memory"); INTERNAL otherwise, with the error's name and description and `what` (the call).
Status CudaCheck(cudaError_t error, std::string_view what);

// The same for cuBLAS: RESOURCE_EXHAUSTED for CUBLAS_STATUS_ALLOC_FAILED, INTERNAL otherwise.
Status CublasCheck(cublasStatus_t status, std::string_view what);

}  // namespace dim::core::cuda
