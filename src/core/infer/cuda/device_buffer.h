// Device memory for floats: RAII, either for the life of a model (weights) or for one
// call, allocated and freed in the call's stream order from the executor's memory pool.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "core/status.h"

namespace dim::core::cuda {

class DeviceBuffer final {
 public:
  // `count` floats with cudaMalloc, freed with cudaFree; RESOURCE_EXHAUSTED when they do
  // not fit, INTERNAL for other CUDA errors. A buffer of 0 floats holds no memory.
  static Result<std::unique_ptr<DeviceBuffer>> Persistent(int64_t count);
  // `count` floats from `pool`, usable by work queued on `stream` after this call and
  // freed on `stream` (stream-ordered) when the buffer is destroyed; the stream must
  // outlive the buffer.
  static Result<std::shared_ptr<DeviceBuffer>> InStream(int64_t count, cudaMemPool_t pool,
                                                        cudaStream_t stream);

  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  float* data() const { return data_; }

 private:
  DeviceBuffer(float* data, cudaStream_t stream, bool stream_ordered)
      : data_(data), stream_(stream), stream_ordered_(stream_ordered) {}

  float* data_;
  cudaStream_t stream_;
  bool stream_ordered_;
};

// A value of a running graph on the device: a buffer, shared by values that alias it
// (a Reshape's output and its input), and the value's shape.
struct DeviceTensor final {
  std::shared_ptr<DeviceBuffer> buffer;  // Null for an empty tensor.
  std::vector<int64_t> shape;

  float* data() const { return buffer ? buffer->data() : nullptr; }
};

}  // namespace dim::core::cuda
