// Where a model runs: the CPU (Eigen) or a CUDA GPU (infer/cuda/, built with -Dcuda).
#pragma once

#include <optional>
#include <string_view>

#include "core/status.h"

namespace dim::core {

enum class Device { kCpu, kCuda };

// "cpu", "cuda".
std::string_view DeviceName(Device device);
// The inverse of DeviceName; nullopt for any other text.
std::optional<Device> ParseDevice(std::string_view name);

// Whether this dim was built with the CUDA backend (meson setup -Dcuda=enabled, or auto
// with nvcc found).
bool CudaCompiledIn();

// The number of CUDA devices this process can use: 0 when the runtime reports none, or
// when there is no NVIDIA driver (libcuda missing or too old), which is not an error.
// FAILED_PRECONDITION when CUDA is not compiled in; INTERNAL for any other CUDA error.
// Thread-safe.
Result<int> CudaDeviceCount();

// OK when models can be loaded with Device::kCuda; otherwise FAILED_PRECONDITION, either
// "this dim was built without CUDA (meson setup -Dcuda=enabled)" or "no CUDA device: WHY".
// Thread-safe.
Status CheckCudaUsable();

// Whether a CUDA device is present and usable (CheckCudaUsable() is OK).
bool GpuAvailable();

}  // namespace dim::core
