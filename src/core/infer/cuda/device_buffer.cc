#include "core/infer/cuda/device_buffer.h"

#include "core/infer/cuda/cuda_status.h"

namespace dim::core::cuda {
namespace {

size_t Bytes(int64_t count) { return static_cast<size_t>(count) * sizeof(float); }

}  // namespace

Result<std::unique_ptr<DeviceBuffer>> DeviceBuffer::Persistent(int64_t count) {
  void* data = nullptr;
  if (count > 0) DIM_RETURN_IF_ERROR(CudaCheck(cudaMalloc(&data, Bytes(count)), "cudaMalloc"));
  return std::unique_ptr<DeviceBuffer>(new DeviceBuffer(static_cast<float*>(data), nullptr, false));
}

Result<std::shared_ptr<DeviceBuffer>> DeviceBuffer::InStream(int64_t count, cudaMemPool_t pool,
                                                             cudaStream_t stream) {
  void* data = nullptr;
  if (count > 0) {
    DIM_RETURN_IF_ERROR(CudaCheck(cudaMallocFromPoolAsync(&data, Bytes(count), pool, stream),
                                  "cudaMallocFromPoolAsync"));
  }
  return std::shared_ptr<DeviceBuffer>(new DeviceBuffer(static_cast<float*>(data), stream, true));
}

DeviceBuffer::~DeviceBuffer() {
  if (data_ == nullptr) return;
  // A destructor cannot report; a failure here means the device is already broken, and
  // the call that broke it has reported that.
  if (stream_ordered_) {
    (void)cudaFreeAsync(data_, stream_);
  } else {
    (void)cudaFree(data_);
  }
}

}  // namespace dim::core::cuda
