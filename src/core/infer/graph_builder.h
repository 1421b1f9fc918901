// Validation of a parsed ONNX model and its translation into an executable Graph.
#pragma once

#include <memory>

#include "core/infer/graph.h"
#include "core/status.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace dim::core {

// Checks the whole model and plans its execution: the default-domain opset (7 to 21) and
// the ai.onnx.ml opset (1 to 3), one float32 input whose dimensions after the first are
// known, initializers (float32, or int64 used as shape parameters and indices), every node
// (supported operator, valid attributes, inputs that exist, no cycle, shapes that agree
// with a symbolic batch size) and the model's output (batch first, other dimensions
// known), and that the values computed at load time (constant folding) hold at most 2^24
// floats plus twice the file's constants. The model's output is the first graph output;
// for a classifier whose first output is its int64 label ([N] or [N,1]) and a later one
// its float scores, it is the first such float output, and the labels are planned too.
// Returns INVALID_ARGUMENT naming the node ("node 'fc1' (Gemm): ..." or "node #3 (Gemm):
// ...") or the value at fault; the message does not name the model.
Result<std::unique_ptr<Graph>> BuildGraph(const onnx::ModelProto& model);

}  // namespace dim::core
