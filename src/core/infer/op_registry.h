// The table of supported ONNX operators: op type -> arity and factory.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "core/infer/op.h"
#include "core/status.h"

namespace onnx {
class NodeProto;
}  // namespace onnx

namespace dim::core {

// Creates the operator for `node` (default ONNX domain) under the model's `opset`.
// INVALID_ARGUMENT "unsupported operator" for an op type or domain not in the table,
// and a message naming what is wrong for a bad number of inputs or outputs or a bad
// attribute. The message does not name the node; the caller adds that.
Result<std::unique_ptr<Op>> CreateOp(const onnx::NodeProto& node, int64_t opset);

// The supported op types, sorted.
std::vector<std::string_view> SupportedOps();

}  // namespace dim::core
