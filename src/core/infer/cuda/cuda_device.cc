// The device functions of a build with CUDA (device.h).
#include <cuda_runtime_api.h>

#include <string>

#include "core/infer/cuda/cublas_library.h"
#include "core/infer/cuda/cuda_status.h"
#include "core/infer/device.h"

namespace dim::core {
namespace {

// Errors with which the runtime says "no usable GPU here" rather than "something broke".
// The runtime is linked statically and loads the driver (libcuda.so.1) itself, so a
// machine without the NVIDIA driver lands here too, with cudaErrorInsufficientDriver.
bool MeansNoDevice(cudaError_t error) {
  switch (error) {
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorStubLibrary:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorSystemNotReady:
    case cudaErrorDevicesUnavailable:
    case cudaErrorInitializationError:
    case cudaErrorCompatNotSupportedOnDevice:
      return true;
    default:
      return false;
  }
}

}  // namespace

bool CudaCompiledIn() { return true; }

Result<int> CudaDeviceCount() {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error == cudaSuccess) return count;
  (void)cudaGetLastError();  // Clears the error so later calls do not see it.
  if (MeansNoDevice(error)) return 0;
  return cuda::CudaCheck(error, "cudaGetDeviceCount");
}

Status CheckCudaUsable() {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    (void)cudaGetLastError();
    std::string why = cudaGetErrorString(error);
    if (error == cudaErrorInsufficientDriver) why += "; is the NVIDIA driver installed?";
    return Status::FailedPrecondition("no CUDA device: " + why);
  }
  if (count == 0) return Status::FailedPrecondition("no CUDA device: the CUDA runtime finds none");
  // A GPU without cuBLAS cannot run a model either; say so now rather than at the first task.
  return cuda::LoadCublas().status();
}

}  // namespace dim::core
