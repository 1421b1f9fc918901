// The table of supported ONNX operators: op type -> arity and factory.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/infer/op.h"
#include "core/status.h"

namespace onnx {
class NodeProto;
}  // namespace onnx

namespace dim::core {

// The opsets a model imports: the default ONNX domain's and ai.onnx.ml's (0: not imported).
struct Opsets final {
  int64_t onnx = 0;
  int64_t ml = 0;
};

// The ONNX-ML domain.
inline constexpr std::string_view kMlDomain = "ai.onnx.ml";

// Creates the operator for `node` (default ONNX domain or ai.onnx.ml) under the opset the
// model imports for its domain. INVALID_ARGUMENT "unsupported operator" for an op type or
// domain not in the table, a message saying the node's domain is not imported, and a
// message naming what is wrong for a bad number of inputs or outputs or a bad attribute.
// The message does not name the node; the caller adds that.
Result<std::unique_ptr<Op>> CreateOp(const onnx::NodeProto& node, const Opsets& opsets);

// The supported op types, sorted: the default domain's, then "ai.onnx.ml.TYPE" for the
// ONNX-ML domain's.
std::vector<std::string> SupportedOps();

}  // namespace dim::core
