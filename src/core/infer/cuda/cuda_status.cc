#include "core/infer/cuda/cuda_status.h"

#include <string>

#include "core/infer/cuda/cublas_library.h"

namespace dim::core::cuda {

Status CudaCheck(cudaError_t error, std::string_view what) {
  if (error == cudaSuccess) return Status::Ok();
  const std::string detail =
      std::string(what) + ": " + cudaGetErrorName(error) + " (" + cudaGetErrorString(error) + ")";
  if (error == cudaErrorMemoryAllocation) {
    return Status::ResourceExhausted("out of GPU memory in " + detail);
  }
  return Status::Internal("CUDA error in " + detail);
}

Status CublasCheck(cublasStatus_t status, std::string_view what) {
  if (status == CUBLAS_STATUS_SUCCESS) return Status::Ok();
  // A status comes from a cuBLAS call, so the library is loaded.
  const std::string detail = std::string(what) + ": " + Cublas().status_name(status) + " (" +
                             Cublas().status_string(status) + ")";
  if (status == CUBLAS_STATUS_ALLOC_FAILED) {
    return Status::ResourceExhausted("out of GPU memory in " + detail);
  }
  return Status::Internal("cuBLAS error in " + detail);
}

}  // namespace dim::core::cuda
