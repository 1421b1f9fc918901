#include "core/infer/ops/ml_common.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <set>

#include "core/infer/node_attributes.h"
#include "onnx.pb.h"

namespace dim::core {

Result<PostTransform> ParsePostTransform(const std::string& name) {
  if (name == "NONE") return PostTransform::kNone;
  if (name == "SOFTMAX") return PostTransform::kSoftmax;
  if (name == "LOGISTIC") return PostTransform::kLogistic;
  if (name == "SOFTMAX_ZERO") return PostTransform::kSoftmaxZero;
  if (name == "PROBIT") return PostTransform::kProbit;
  return Status::InvalidArgument("attribute 'post_transform' is '" + name +
                                 "'; NONE, SOFTMAX, LOGISTIC, SOFTMAX_ZERO and PROBIT are "
                                 "supported");
}

float Logistic(float x) {
  const float v = 1.0f / (1.0f + std::exp(-std::abs(x)));
  return x < 0 ? 1.0f - v : v;
}

float Probit(float p) {
  float x = 2.0f * p - 1.0f;
  const float sign = x < 0 ? -1.0f : 1.0f;
  x = (1.0f - x) * (1.0f + x);
  const float log = std::log(x);
  const float v = 2.0f / (std::numbers::pi_v<float> * 0.147f) + 0.5f * log;
  const float v2 = 1.0f / 0.147f * log;
  const float v3 = -v + std::sqrt(v * v - v2);
  return 1.41421356f * sign * std::sqrt(v3);
}

void ApplyPostTransform(PostTransform transform, std::span<float> scores) {
  switch (transform) {
    case PostTransform::kNone:
      return;
    case PostTransform::kLogistic:
      for (float& s : scores) s = Logistic(s);
      return;
    case PostTransform::kProbit:
      for (float& s : scores) s = Probit(s);
      return;
    case PostTransform::kSoftmax: {
      if (scores.empty()) return;
      const float max = *std::max_element(scores.begin(), scores.end());
      float sum = 0;
      for (float& s : scores) {
        s = std::exp(s - max);
        sum += s;
      }
      for (float& s : scores) s /= sum;
      return;
    }
    case PostTransform::kSoftmaxZero: {
      if (scores.empty()) return;
      const float max = *std::max_element(scores.begin(), scores.end());
      float sum = 0;
      for (float& s : scores) {
        s = (s > 1e-7f || s < -1e-7f) ? std::exp(s - max) : 0.0f;
        sum += s;
      }
      if (sum != 0) {
        for (float& s : scores) s /= sum;
      }
      return;
    }
  }
}

Result<ClassLabels> ReadClassLabels(const onnx::NodeProto& node,
                                    const std::string& ints_attribute) {
  const NodeAttributes attrs(node);
  const bool has_ints = attrs.Has(ints_attribute);
  const bool has_strings = attrs.Has("classlabels_strings");
  if (has_ints == has_strings) {
    return Status::InvalidArgument("exactly one of the attributes '" + ints_attribute +
                                   "' and 'classlabels_strings' must be given");
  }
  ClassLabels labels;
  if (has_ints) {
    DIM_ASSIGN_OR_RETURN(labels.ids, attrs.Ints(ints_attribute));
    constexpr int64_t kExact = int64_t{1} << 24;
    for (int64_t id : labels.ids) {
      if (id > kExact || id < -kExact) {
        return Status::InvalidArgument("class label " + std::to_string(id) +
                                       " is beyond 2^24, which labels here cannot be");
      }
    }
  } else {
    labels.strings = true;
    DIM_ASSIGN_OR_RETURN(const std::vector<std::string> strings,
                         attrs.Strings("classlabels_strings"));
    for (size_t i = 0; i < strings.size(); ++i) labels.ids.push_back(static_cast<int64_t>(i));
  }
  if (labels.ids.empty()) return Status::InvalidArgument("the class labels are empty");
  if (labels.ids.size() > kMaxScores) {
    return Status::InvalidArgument(std::to_string(labels.ids.size()) + " class labels; at most " +
                                   std::to_string(kMaxScores) + " are supported");
  }
  if (std::set<int64_t>(labels.ids.begin(), labels.ids.end()).size() != labels.ids.size()) {
    return Status::InvalidArgument("a class label is repeated");
  }
  return labels;
}

Status RefuseAttributes(const onnx::NodeProto& node, std::span<const char* const> names) {
  for (const onnx::AttributeProto& a : node.attribute()) {
    for (const char* name : names) {
      if (a.name() == name) {
        return Status::InvalidArgument("attribute '" + a.name() + "' is not supported");
      }
    }
  }
  return Status::Ok();
}

}  // namespace dim::core
