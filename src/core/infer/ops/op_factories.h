// One factory per supported operator, each defined next to its operator class in ops/.
// Called by the registry once the node's arity is checked; they read the attributes with
// their ONNX defaults and return INVALID_ARGUMENT for an invalid attribute.
#pragma once

#include <cstdint>
#include <memory>

#include "core/infer/op.h"
#include "core/status.h"

namespace onnx {
class NodeProto;
}  // namespace onnx

namespace dim::core {

using OpFactory = Result<std::unique_ptr<Op>> (*)(const onnx::NodeProto& node, int64_t opset);

Result<std::unique_ptr<Op>> MakeGemm(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeMatMul(const onnx::NodeProto& node, int64_t opset);

Result<std::unique_ptr<Op>> MakeAdd(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeSub(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeMul(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeDiv(const onnx::NodeProto& node, int64_t opset);

Result<std::unique_ptr<Op>> MakeRelu(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeLeakyRelu(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeSigmoid(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeTanh(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeClip(const onnx::NodeProto& node, int64_t opset);

Result<std::unique_ptr<Op>> MakeSoftmax(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeLogSoftmax(const onnx::NodeProto& node, int64_t opset);

Result<std::unique_ptr<Op>> MakeIdentity(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeDropout(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeFlatten(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeReshape(const onnx::NodeProto& node, int64_t opset);

Result<std::unique_ptr<Op>> MakeConstant(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeCast(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeConcat(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeBatchNormalization(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeArgMax(const onnx::NodeProto& node, int64_t opset);

}  // namespace dim::core
