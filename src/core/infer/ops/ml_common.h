// What the ai.onnx.ml classifiers and regressors share: their post_transform, with the
// formulas ONNX Runtime (the reference for parity) uses, and the reading of class labels.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace onnx {
class NodeProto;
}  // namespace onnx

namespace dim::core {

// The most scores (classes, regression targets) an ai.onnx.ml operator may give per row,
// as many as a model's output may have.
inline constexpr size_t kMaxScores = size_t{1} << 14;

enum class PostTransform { kNone, kSoftmax, kLogistic, kSoftmaxZero, kProbit };

// "NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO" or "PROBIT"; INVALID_ARGUMENT naming the
// attribute otherwise.
Result<PostTransform> ParsePostTransform(const std::string& name);

// 1 / (1 + e^-x), computed from |x| so that it neither overflows nor loses the small tail.
float Logistic(float x);
// sqrt(2) * erfinv(2p - 1), with the closed-form approximation of erfinv (Winitzki's, a =
// 0.147, in float) that ONNX Runtime 1.31 uses, so that results agree with it to float
// precision (the approximation itself is within about 2e-3 of erfinv).
float Probit(float p);

// Applies the transform to one row of scores in place: element-wise for LOGISTIC and
// PROBIT; over the row for SOFTMAX and SOFTMAX_ZERO (which leaves zero scores at zero and
// normalises the others).
void ApplyPostTransform(PostTransform transform, std::span<float> scores);

// A classifier's labels: `ints_attribute` (classlabels_int64s; LinearClassifier calls it
// classlabels_ints), or for classlabels_strings their positions
// (0, 1, ...), the strings themselves being no value the engine computes with.
// INVALID_ARGUMENT when both or neither are given, when a label is repeated, or when an
// int64 label is beyond 2^24 (labels are carried in float storage).
struct ClassLabels final {
  std::vector<int64_t> ids;
  bool strings = false;  // The labels were strings: the label output is not computed.
};
Result<ClassLabels> ReadClassLabels(const onnx::NodeProto& node,
                                    const std::string& ints_attribute = "classlabels_int64s");

// INVALID_ARGUMENT "attribute 'NAME' is not supported" when the node has it (the
// *_as_tensor forms of ai.onnx.ml opset 3, which hold doubles).
Status RefuseAttributes(const onnx::NodeProto& node, std::span<const char* const> names);

}  // namespace dim::core
