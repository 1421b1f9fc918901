// The device functions of a build without CUDA (meson setup -Dcuda=disabled, or nvcc not
// found): every CUDA request fails with the same clear FAILED_PRECONDITION.
#include "core/infer/device.h"
#include "core/infer/device_executor.h"

namespace dim::core {
namespace {

Status NotBuilt() {
  return Status::FailedPrecondition("this dim was built without CUDA (meson setup -Dcuda=enabled)");
}

}  // namespace

bool CudaCompiledIn() { return false; }

Result<int> CudaDeviceCount() { return NotBuilt(); }

Status CheckCudaUsable() { return NotBuilt(); }

Result<std::unique_ptr<DeviceExecutor>> MakeCudaExecutor(const Graph& /*graph*/) {
  return NotBuilt();
}

}  // namespace dim::core
