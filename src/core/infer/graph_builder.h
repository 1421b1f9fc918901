// Validation of a parsed ONNX model and its translation into an executable Graph.
#pragma once

#include <memory>

#include "core/infer/graph.h"
#include "core/status.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace dim::core {

// Checks the whole model and plans its execution: the default-domain opset (7 to 21), one
// float32 input whose dimensions after the first are known, initializers (float32, or
// int64 used as shape parameters), every node (supported operator, valid attributes,
// inputs that exist, no cycle, shapes that agree with a symbolic batch size) and the first
// output (float32, batch first, other dimensions known), and that the values computed at
// load time (constant folding) hold at most 2^24 floats plus twice the file's constants.
// Returns INVALID_ARGUMENT naming the node ("node 'fc1' (Gemm): ..." or "node #3 (Gemm):
// ...") or the value at fault; the message does not name the model.
Result<std::unique_ptr<Graph>> BuildGraph(const onnx::ModelProto& model);

}  // namespace dim::core
