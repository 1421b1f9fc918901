// Runs a graph's plan on a device other than the CPU. The CUDA implementation lives in
// infer/cuda/; a build without CUDA has only a stub (cuda/no_cuda.cc).
#pragma once

#include <cstdint>
#include <memory>

#include "core/infer/graph.h"
#include "core/infer/tensor.h"
#include "core/status.h"

namespace dim::core {

// Thread-safety: Run may be called from many threads at once.
class DeviceExecutor {
 public:
  virtual ~DeviceExecutor() = default;

  // Runs the plan on `rows` rows of input: `input` holds the graph's input shape resolved
  // for that batch (row-major). Returns the first output in host memory. INTERNAL when a
  // kernel or the device fails; RESOURCE_EXHAUSTED when device memory runs out.
  [[nodiscard]] virtual Result<Tensor> Run(const float* input, int64_t rows) const = 0;
};

// Builds the CUDA executor for `graph`, which must outlive it, and copies the graph's
// constants to the device. FAILED_PRECONDITION as CheckCudaUsable() (device.h) gives it;
// RESOURCE_EXHAUSTED when the constants do not fit; INTERNAL for other CUDA errors.
Result<std::unique_ptr<DeviceExecutor>> MakeCudaExecutor(const Graph& graph);

}  // namespace dim::core
