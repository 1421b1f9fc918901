#include "core/infer/cuda/cuda_executor.h"

#include <cstdint>
#include <string>

#include "core/infer/cuda/cuda_status.h"
#include "core/infer/device.h"

namespace dim::core::cuda {
namespace {

// Memory a pool keeps for later calls instead of handing it back to the driver at each
// synchronisation: enough for a batch of 65536 rows through a few wide layers.
constexpr uint64_t kPoolReleaseThreshold = uint64_t{1} << 30;

size_t Bytes(int64_t count) { return static_cast<size_t>(count) * sizeof(float); }

Result<std::unique_ptr<DeviceBuffer>> Upload(const float* data, int64_t count) {
  DIM_ASSIGN_OR_RETURN(std::unique_ptr<DeviceBuffer> buffer, DeviceBuffer::Persistent(count));
  if (count > 0) {
    DIM_RETURN_IF_ERROR(CudaCheck(
        cudaMemcpy(buffer->data(), data, Bytes(count), cudaMemcpyHostToDevice), "cudaMemcpy"));
  }
  return buffer;
}

// From pageable memory the copy has read `data` by the time it returns, so the caller may
// free it at once.
Result<DeviceTensor> UploadInStream(const float* data, std::vector<int64_t> shape,
                                    const StepEnv& env) {
  const int64_t count = NumElements(shape);
  DeviceTensor d;
  DIM_ASSIGN_OR_RETURN(d.buffer, DeviceBuffer::InStream(count, env.pool, env.stream));
  d.shape = std::move(shape);
  if (count > 0) {
    DIM_RETURN_IF_ERROR(
        CudaCheck(cudaMemcpyAsync(d.data(), data, Bytes(count), cudaMemcpyHostToDevice, env.stream),
                  "cudaMemcpyAsync"));
  }
  return d;
}

// Copies a device tensor to the host; waits for the stream, so every error queued before
// surfaces here.
Result<Tensor> Download(const DeviceTensor& d, const StepEnv& env) {
  Tensor t = Tensor::Uninitialized(d.shape);
  if (t.size() > 0) {
    DIM_RETURN_IF_ERROR(CudaCheck(
        cudaMemcpyAsync(t.data(), d.data(), Bytes(t.size()), cudaMemcpyDeviceToHost, env.stream),
        "cudaMemcpyAsync"));
  }
  DIM_RETURN_IF_ERROR(CudaCheck(cudaStreamSynchronize(env.stream), "cudaStreamSynchronize"));
  return t;
}

// An error from a step: resource exhaustion keeps its code, anything else is INTERNAL (the
// builder checked every shape, so a failing step is a bug or a broken device).
Status StepError(const std::string& label, const Status& status) {
  if (status.code() == StatusCode::kResourceExhausted) return status.WithPrefix(label);
  return Status::Internal(label + ": " + status.message());
}

}  // namespace

Result<std::unique_ptr<CudaExecutor>> CudaExecutor::Create(const Graph& graph) {
  DIM_RETURN_IF_ERROR(CheckCudaUsable());
  const int device = 0;
  DIM_RETURN_IF_ERROR(CudaCheck(cudaSetDevice(device), "cudaSetDevice"));
  int pools_supported = 0;
  DIM_RETURN_IF_ERROR(
      CudaCheck(cudaDeviceGetAttribute(&pools_supported, cudaDevAttrMemoryPoolsSupported, device),
                "cudaDeviceGetAttribute"));
  if (pools_supported == 0) {
    return Status::FailedPrecondition("no CUDA device: device 0 has no stream-ordered allocator");
  }
  std::unique_ptr<CudaExecutor> executor(new CudaExecutor(graph, device));

  cudaMemPoolProps props = {};
  props.allocType = cudaMemAllocationTypePinned;
  props.location.type = cudaMemLocationTypeDevice;
  props.location.id = device;
  DIM_RETURN_IF_ERROR(CudaCheck(cudaMemPoolCreate(&executor->pool_, &props), "cudaMemPoolCreate"));
  uint64_t threshold = kPoolReleaseThreshold;
  DIM_RETURN_IF_ERROR(CudaCheck(
      cudaMemPoolSetAttribute(executor->pool_, cudaMemPoolAttrReleaseThreshold, &threshold),
      "cudaMemPoolSetAttribute"));

  const Graph::Plan& plan = graph.plan();
  for (const std::shared_ptr<const Tensor>& c : plan.constants) {
    DIM_ASSIGN_OR_RETURN(std::unique_ptr<DeviceBuffer> buffer, Upload(c->data(), c->size()));
    executor->constants_.push_back(std::move(buffer));
  }
  for (const Graph::Step& step : plan.steps) {
    StepPlan sp;
    sp.spec = step.op->spec();
    if (sp.spec.kind == OpSpec::Kind::kBatchNorm) {
      const auto count = [](std::span<const float> s) { return static_cast<int64_t>(s.size()); };
      DIM_ASSIGN_OR_RETURN(sp.constants.scale, Upload(sp.spec.scale.data(), count(sp.spec.scale)));
      DIM_ASSIGN_OR_RETURN(sp.constants.shift, Upload(sp.spec.shift.data(), count(sp.spec.shift)));
    }
    executor->steps_.push_back(std::move(sp));
  }
  // cudaMemcpy from pageable memory may return before its DMA is done, and the calls'
  // streams do not wait for the legacy stream that carries it.
  DIM_RETURN_IF_ERROR(CudaCheck(cudaDeviceSynchronize(), "cudaDeviceSynchronize"));
  return executor;
}

CudaExecutor::~CudaExecutor() {
  // Buffers first: the pool is destroyed once none of its memory is outstanding.
  constants_.clear();
  steps_.clear();
  if (pool_ != nullptr) (void)cudaMemPoolDestroy(pool_);
}

Result<Tensor> CudaExecutor::Run(const float* input, int64_t rows) const {
  const Graph::Plan& plan = graph_.plan();
  // The current device is per host thread, and this thread may never have set it.
  DIM_RETURN_IF_ERROR(CudaCheck(cudaSetDevice(device_), "cudaSetDevice"));
  DIM_ASSIGN_OR_RETURN(ContextPool::Lease context, contexts_.Acquire());
  const StepEnv env{context->stream(), context->cublas(), pool_};
  // Declared after the lease, so the buffers are freed (in stream order) before the
  // context goes back to the pool.
  std::vector<DeviceTensor> values(static_cast<size_t>(plan.num_values));
  DIM_ASSIGN_OR_RETURN(values[0], UploadInStream(input, ResolveShape(plan.input_shape, rows), env));

  std::vector<StepInput> inputs;
  for (size_t s = 0; s < plan.steps.size(); ++s) {
    const Graph::Step& step = plan.steps[s];
    const StepPlan& sp = steps_[s];
    bool other_outputs = false;
    for (size_t i = 1; i < step.outputs.size(); ++i)
      other_outputs = other_outputs || step.outputs[i] >= 0;
    if (step.outputs.empty() || (step.outputs[0] < 0 && !other_outputs)) continue;

    Status status = Status::Unimplemented("optional outputs are computed on the CPU");
    if (!other_outputs) {
      inputs.assign(step.inputs.size(), StepInput());
      for (size_t i = 0; i < step.inputs.size(); ++i) {
        const Graph::Source& src = step.inputs[i];
        StepInput& in = inputs[i];
        if (src.kind == Graph::Source::Kind::kConstant) {
          const Tensor& c = *plan.constants[static_cast<size_t>(src.index)];
          in.present = true;
          in.data = constants_[static_cast<size_t>(src.index)]->data();
          in.shape = c.shape();
          in.size = c.size();
        } else if (src.kind == Graph::Source::Kind::kValue) {
          const DeviceTensor& v = values[static_cast<size_t>(src.index)];
          in.present = true;
          in.data = v.data();
          in.shape = v.shape;
          in.size = NumElements(v.shape);
          in.buffer = v.buffer;
          // Two references, the value's and this one, and the value is not read again.
          in.exclusive = step.movable[i] && v.buffer.use_count() == 2;
        }
      }
      const std::vector<int64_t> shape =
          ResolveShape(plan.value_shapes[static_cast<size_t>(step.outputs[0])], rows);
      Result<DeviceTensor> out = RunStepOnDevice(sp.spec, sp.constants, inputs, shape, env);
      inputs.clear();  // Drops the extra references before the values are released.
      if (out.ok()) {
        values[static_cast<size_t>(step.outputs[0])] = std::move(*out);
        status = Status::Ok();
      } else {
        status = out.status();
      }
    }
    if (status.code() == StatusCode::kUnimplemented) status = RunOnCpu(s, values, env);
    if (!status.ok()) return StepError(step.label, status);
    for (int v : step.release) values[static_cast<size_t>(v)] = DeviceTensor();
  }
  Result<Tensor> output = Download(values[static_cast<size_t>(plan.output_value)], env);
  if (!output.ok()) return StepError("copying the output from the GPU", output.status());
  return output;
}

Status CudaExecutor::RunOnCpu(size_t s, std::vector<DeviceTensor>& values,
                              const StepEnv& env) const {
  const Graph::Plan& plan = graph_.plan();
  const Graph::Step& step = plan.steps[s];
  std::vector<Tensor> host(step.inputs.size());
  std::vector<const Tensor*> tensors(step.inputs.size(), nullptr);
  std::vector<Tensor*> movable(step.inputs.size(), nullptr);
  for (size_t i = 0; i < step.inputs.size(); ++i) {
    const Graph::Source& src = step.inputs[i];
    if (src.kind == Graph::Source::Kind::kConstant) {
      tensors[i] = plan.constants[static_cast<size_t>(src.index)].get();
    } else if (src.kind == Graph::Source::Kind::kValue) {
      DIM_ASSIGN_OR_RETURN(host[i], Download(values[static_cast<size_t>(src.index)], env));
      tensors[i] = &host[i];
      if (step.movable[i]) movable[i] = &host[i];  // A copy of its own: the op may take it.
    }
  }
  std::vector<Tensor> outputs(step.outputs.size());
  KernelInputs kernel_inputs(tensors, movable);
  DIM_RETURN_IF_ERROR(step.op->Run(kernel_inputs, outputs));
  for (size_t i = 0; i < step.outputs.size(); ++i) {
    if (step.outputs[i] < 0) continue;
    DIM_ASSIGN_OR_RETURN(values[static_cast<size_t>(step.outputs[i])],
                         UploadInStream(outputs[i].data(), outputs[i].shape(), env));
  }
  return Status::Ok();
}

}  // namespace dim::core::cuda
