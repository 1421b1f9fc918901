// LinearClassifier and LinearRegressor (ai.onnx.ml opset 1): scores = X * coefficients^T +
// intercepts, then the post_transform; labels, and the two-class case with one score
// column, as ONNX Runtime computes them.
#include <Eigen/Core>

#include "core/infer/node_attributes.h"
#include "core/infer/ops/ml_common.h"
#include "core/infer/ops/op_factories.h"
#include "onnx.pb.h"

namespace dim::core {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The linear part both share: coefficients [targets, features] and intercepts [targets].
class Linear {
 public:
  Linear(std::vector<float> coefficients, std::vector<float> intercepts, int64_t targets)
      : coefficients_(std::move(coefficients)),
        intercepts_(std::move(intercepts)),
        targets_(targets) {}

  Status Check(const std::vector<ValueInfo>& inputs) {
    DIM_RETURN_IF_ERROR(RequireFloat(inputs, 0));
    const Shape& x = inputs[0].shape;
    if (x.size() != 2 || !x[1].known()) {
      return Status::InvalidArgument("input '" + inputs[0].name + "' has shape " +
                                     ShapeToString(x) + "; it must be [N, features]");
    }
    features_ = x[1].factor;
    if (static_cast<int64_t>(coefficients_.size()) != targets_ * features_) {
      return Status::InvalidArgument(
          "attribute 'coefficients' has " + std::to_string(coefficients_.size()) + " values; " +
          std::to_string(targets_) + " scores of " + std::to_string(features_) + " features need " +
          std::to_string(targets_ * features_));
    }
    return Status::Ok();
  }

  // rows x targets scores.
  Tensor Scores(const Tensor& x) const {
    const int64_t rows = x.dim(0);
    Tensor y = Tensor::Uninitialized({rows, targets_});
    if (rows == 0) return y;
    const Eigen::Map<const RowMatrix> in(x.data(), rows, features_);
    const Eigen::Map<const RowMatrix> w(coefficients_.data(), targets_, features_);
    Eigen::Map<RowMatrix> out(y.data(), rows, targets_);
    out.noalias() = in * w.transpose();
    if (!intercepts_.empty()) {
      out.rowwise() += Eigen::Map<const Eigen::RowVectorXf>(intercepts_.data(), targets_);
    }
    return y;
  }

  int64_t targets() const { return targets_; }

 private:
  std::vector<float> coefficients_;
  std::vector<float> intercepts_;
  int64_t targets_;
  int64_t features_ = 0;
};

// Element-wise for a single score column (where ONNX Runtime applies only PROBIT), over
// each row otherwise.
void TransformRows(PostTransform transform, Tensor& y) {
  const int64_t width = y.rank() == 2 ? y.dim(1) : 1;
  for (int64_t r = 0; r < y.dim(0); ++r) {
    float* s = y.data() + r * width;
    if (width == 1) {
      if (transform == PostTransform::kProbit) s[0] = Probit(s[0]);
    } else {
      ApplyPostTransform(transform, {s, static_cast<size_t>(width)});
    }
  }
}

class LinearRegressor final : public Op {
 public:
  LinearRegressor(Linear linear, PostTransform transform)
      : linear_(std::move(linear)), transform_(transform) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(linear_.Check(inputs));
    return std::vector<ValueInfo>{FloatValue({inputs[0].shape[0], Dim::Known(linear_.targets())})};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    Tensor y = linear_.Scores(inputs[0]);
    TransformRows(transform_, y);
    outputs[0] = std::move(y);
    return Status::Ok();
  }

 private:
  Linear linear_;
  PostTransform transform_;
};

class LinearClassifier final : public Op {
 public:
  LinearClassifier(Linear linear, PostTransform transform, ClassLabels labels)
      : linear_(std::move(linear)), transform_(transform), labels_(std::move(labels)) {}

  Result<std::vector<ValueInfo>> Infer(const std::vector<ValueInfo>& inputs) override {
    DIM_RETURN_IF_ERROR(linear_.Check(inputs));
    const int64_t targets = linear_.targets();
    if (targets > 1 && targets != static_cast<int64_t>(labels_.ids.size())) {
      return Status::InvalidArgument(std::to_string(targets) + " intercepts for " +
                                     std::to_string(labels_.ids.size()) + " class labels");
    }
    second_class_ = targets == 1 && labels_.ids.size() == 2;
    if (second_class_ && transform_ == PostTransform::kProbit) {
      return Status::InvalidArgument(
          "post_transform PROBIT with one score column for two classes is not supported");
    }
    const Dim n = inputs[0].shape[0];
    ValueInfo label = FloatValue({n});
    label.type = labels_.strings ? DType::kString : DType::kInt64;
    return std::vector<ValueInfo>{std::move(label),
                                  FloatValue({n, Dim::Known(second_class_ ? 2 : targets)})};
  }

  Status Run(KernelInputs& inputs, std::span<Tensor> outputs) const override {
    Tensor scores = linear_.Scores(inputs[0]);
    const int64_t rows = scores.dim(0);
    const int64_t targets = linear_.targets();
    Tensor label = Tensor::Uninitialized({rows});
    for (int64_t r = 0; r < rows; ++r) {
      const float* s = scores.data() + r * targets;
      int64_t id;
      if (targets == 1) {
        // One score: its sign picks between two labels (or 1 and 0 without two).
        const bool positive = s[0] > 0;
        id = labels_.ids.size() == 2 ? labels_.ids[positive ? 1 : 0] : (positive ? 1 : 0);
      } else {
        int64_t best = 0;
        for (int64_t k = 1; k < targets; ++k) best = s[k] > s[best] ? k : best;
        id = labels_.ids[static_cast<size_t>(best)];
      }
      label.data()[r] = static_cast<float>(id);
    }
    if (outputs.size() > 1) {
      if (second_class_) {
        // [1 - p, p] for the one score p, after LOGISTIC (the other transforms are left
        // out), as ONNX Runtime does.
        Tensor z = Tensor::Uninitialized({rows, 2});
        for (int64_t r = 0; r < rows; ++r) {
          float p = scores.data()[r];
          if (transform_ == PostTransform::kLogistic) p = Logistic(p);
          z.data()[2 * r] = 1.0f - p;
          z.data()[2 * r + 1] = p;
        }
        outputs[1] = std::move(z);
      } else {
        TransformRows(transform_, scores);
        outputs[1] = std::move(scores);
      }
    }
    outputs[0] = std::move(label);
    return Status::Ok();
  }

 private:
  Linear linear_;
  PostTransform transform_;
  ClassLabels labels_;
  bool second_class_ = false;
};

Result<Linear> ReadLinear(const onnx::NodeProto& node, int64_t targets_default) {
  const NodeAttributes attrs(node);
  DIM_ASSIGN_OR_RETURN(std::vector<float> coefficients, attrs.Floats("coefficients"));
  DIM_ASSIGN_OR_RETURN(std::vector<float> intercepts, attrs.Floats("intercepts"));
  if (coefficients.empty()) return Status::InvalidArgument("attribute 'coefficients' is missing");
  int64_t targets = targets_default;
  if (targets <= 0) targets = static_cast<int64_t>(intercepts.size());
  if (targets <= 0) return Status::InvalidArgument("attribute 'intercepts' is missing");
  if (!intercepts.empty() && static_cast<int64_t>(intercepts.size()) != targets) {
    return Status::InvalidArgument("attribute 'intercepts' has " +
                                   std::to_string(intercepts.size()) + " values for " +
                                   std::to_string(targets) + " targets");
  }
  return Linear(std::move(coefficients), std::move(intercepts), targets);
}

Result<PostTransform> ReadTransform(const onnx::NodeProto& node) {
  DIM_ASSIGN_OR_RETURN(const std::string name,
                       NodeAttributes(node).String("post_transform", "NONE"));
  return ParsePostTransform(name);
}

}  // namespace

Result<std::unique_ptr<Op>> MakeLinearRegressor(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(const int64_t targets, NodeAttributes(node).Int("targets", 1));
  if (targets < 1 || targets > static_cast<int64_t>(kMaxScores)) {
    return Status::InvalidArgument("attribute 'targets' is " + std::to_string(targets));
  }
  DIM_ASSIGN_OR_RETURN(Linear linear, ReadLinear(node, targets));
  DIM_ASSIGN_OR_RETURN(const PostTransform transform, ReadTransform(node));
  return std::unique_ptr<Op>(std::make_unique<LinearRegressor>(std::move(linear), transform));
}

Result<std::unique_ptr<Op>> MakeLinearClassifier(const onnx::NodeProto& node, int64_t) {
  DIM_ASSIGN_OR_RETURN(ClassLabels labels, ReadClassLabels(node, "classlabels_ints"));
  DIM_ASSIGN_OR_RETURN(Linear linear, ReadLinear(node, 0));
  DIM_ASSIGN_OR_RETURN(const PostTransform transform, ReadTransform(node));
  return std::unique_ptr<Op>(
      std::make_unique<LinearClassifier>(std::move(linear), transform, std::move(labels)));
}

}  // namespace dim::core
