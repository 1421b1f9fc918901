// One step of a graph on the device: the cuBLAS call or kernel that an OpSpec describes,
// for the shapes at hand.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/infer/cuda/device_buffer.h"
#include "core/infer/op_spec.h"
#include "core/status.h"

namespace dim::core::cuda {

// One input of a step as the kernels see it.
struct StepInput final {
  bool present = false;  // False for an absent optional input.
  const float* data = nullptr;
  std::vector<int64_t> shape;
  int64_t size = 0;
  std::shared_ptr<DeviceBuffer> buffer;  // The value's buffer; null for a constant.
  bool exclusive = false;                // Nothing else reads `buffer`: the step may write into it.
};

// Where a call's work goes.
struct StepEnv final {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudaMemPool_t pool = nullptr;
};

// What a step needs on the device besides its inputs, copied there at load.
struct StepConstants final {
  std::unique_ptr<DeviceBuffer> scale;  // kBatchNorm: OpSpec::scale and shift.
  std::unique_ptr<DeviceBuffer> shift;
};

// Queues the step described by `spec` on env.stream and returns its output (a new buffer,
// an input's buffer reused in place, or, for kReshape, the input's buffer shared).
// `output_shape` is the output's shape from the plan. UNIMPLEMENTED, with nothing queued,
// when no device kernel handles this kind or these shapes: the caller then runs the CPU
// op. INTERNAL for shapes that contradict the plan and for CUDA/cuBLAS errors;
// RESOURCE_EXHAUSTED when device memory runs out.
Result<DeviceTensor> RunStepOnDevice(const OpSpec& spec, const StepConstants& constants,
                                     std::vector<StepInput>& inputs,
                                     std::vector<int64_t> output_shape, const StepEnv& env);

}  // namespace dim::core::cuda
