#include "core/infer/graph.h"

namespace dim::core {

Result<Tensor> Graph::Run(Tensor input, Tensor* labels) const {
  std::vector<Tensor> values(static_cast<size_t>(plan_.num_values));
  values[0] = std::move(input);
  std::vector<const Tensor*> tensors;
  std::vector<Tensor*> movable;
  std::vector<Tensor> outputs;
  for (const Step& step : plan_.steps) {
    tensors.assign(step.inputs.size(), nullptr);
    movable.assign(step.inputs.size(), nullptr);
    for (size_t i = 0; i < step.inputs.size(); ++i) {
      const Source& src = step.inputs[i];
      if (src.kind == Source::Kind::kConstant) {
        tensors[i] = plan_.constants[static_cast<size_t>(src.index)].get();
      } else if (src.kind == Source::Kind::kValue) {
        Tensor* t = &values[static_cast<size_t>(src.index)];
        tensors[i] = t;
        if (step.movable[i]) movable[i] = t;
      }
    }
    outputs.clear();
    outputs.resize(step.outputs.size());
    KernelInputs kernel_inputs(tensors, movable);
    const Status status = step.op->Run(kernel_inputs, outputs);
    if (!status.ok()) return Status::Internal(step.label + ": " + status.message());
    for (size_t i = 0; i < step.outputs.size(); ++i) {
      if (step.outputs[i] >= 0)
        values[static_cast<size_t>(step.outputs[i])] = std::move(outputs[i]);
    }
    for (int v : step.release) values[static_cast<size_t>(v)] = Tensor();
  }
  if (labels != nullptr && plan_.label_value >= 0) {
    *labels = std::move(values[static_cast<size_t>(plan_.label_value)]);
  }
  return std::move(values[static_cast<size_t>(plan_.output_value)]);
}

}  // namespace dim::core
