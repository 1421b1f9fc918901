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

// Element-wise math (unary_op.cc, binary_op.cc): converted models use these around the
// ONNX-ML operators.
Result<std::unique_ptr<Op>> MakeAbs(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeNeg(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeExp(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeLog(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeSqrt(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeErf(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakePow(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeEqual(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeGreater(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeGreaterOrEqual(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeLess(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeLessOrEqual(const onnx::NodeProto& node, int64_t opset);

// reduce.cc
Result<std::unique_ptr<Op>> MakeReduceSum(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeReduceMean(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeReduceMax(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeReduceMin(const onnx::NodeProto& node, int64_t opset);

// layout.cc: Squeeze, Unsqueeze, Transpose, Gather (constant indices), Where.
Result<std::unique_ptr<Op>> MakeSqueeze(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeUnsqueeze(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeTranspose(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeGather(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeWhere(const onnx::NodeProto& node, int64_t opset);

// The ai.onnx.ml domain; `opset` is the model's ai.onnx.ml opset (1-3).
// tree_ensemble.cc
Result<std::unique_ptr<Op>> MakeTreeEnsembleClassifier(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeTreeEnsembleRegressor(const onnx::NodeProto& node, int64_t opset);
// linear_ml.cc
Result<std::unique_ptr<Op>> MakeLinearClassifier(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeLinearRegressor(const onnx::NodeProto& node, int64_t opset);
// feature_ops.cc
Result<std::unique_ptr<Op>> MakeScaler(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeNormalizer(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeImputer(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeBinarizer(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeArrayFeatureExtractor(const onnx::NodeProto& node, int64_t opset);
Result<std::unique_ptr<Op>> MakeZipMap(const onnx::NodeProto& node, int64_t opset);

}  // namespace dim::core
