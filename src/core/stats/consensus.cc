#include "core/stats/consensus.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>

namespace dim::core {
namespace {

constexpr std::array<std::pair<ConsensusMethod, std::string_view>, 5> kMethods{{
    {ConsensusMethod::kMajorityVote, "majority_vote"},
    {ConsensusMethod::kWeightedVote, "weighted_vote"},
    {ConsensusMethod::kAverage, "average"},
    {ConsensusMethod::kUnanimous, "unanimous"},
    {ConsensusMethod::kExpertReview, "expert_review"},
}};

// The index of the largest value; the first one wins a tie.
template <typename T>
int64_t FirstMax(const std::vector<T>& values) {
  int64_t best = 0;
  for (size_t i = 1; i < values.size(); ++i) {
    if (values[i] > values[static_cast<size_t>(best)]) best = static_cast<int64_t>(i);
  }
  return best;
}

double Fraction(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

}  // namespace

std::string_view ConsensusMethodName(ConsensusMethod method) {
  for (const auto& [m, name] : kMethods) {
    if (m == method) return name;
  }
  return "unknown";
}

std::optional<ConsensusMethod> ParseConsensusMethod(std::string_view name) {
  for (const auto& [m, n] : kMethods) {
    if (n == name) return m;
  }
  return std::nullopt;
}

const std::vector<std::string_view>& ConsensusMethodNames() {
  static const std::vector<std::string_view> kNames = [] {
    std::vector<std::string_view> names;
    for (const auto& [m, name] : kMethods) names.push_back(name);
    return names;
  }();
  return kNames;
}

Status CheckConsensusSettings(const ConsensusSettings& settings, size_t models) {
  if (models < 2) {
    return Status::InvalidArgument("model_ids: a comparison needs at least 2 models, got " +
                                   std::to_string(models));
  }
  const bool weighted = settings.method == ConsensusMethod::kWeightedVote;
  if (!weighted && !settings.weights.empty()) {
    return Status::InvalidArgument("weights: only the weighted_vote method takes weights");
  }
  if (weighted) {
    if (settings.weights.size() != models) {
      return Status::InvalidArgument("weights: " + std::to_string(settings.weights.size()) +
                                     " weights for " + std::to_string(models) +
                                     " models (one per model, in the order of model_ids)");
    }
    bool any = false;
    for (size_t i = 0; i < models; ++i) {
      const double w = settings.weights[i];
      if (!std::isfinite(w) || w < 0) {
        return Status::InvalidArgument("weights[" + std::to_string(i) + "]: must be a number >= 0");
      }
      any = any || w > 0;
    }
    if (!any) return Status::InvalidArgument("weights: must not all be zero");
  }
  if (!(settings.min_agreement >= 0 && settings.min_agreement <= 1)) {
    return Status::InvalidArgument("min_agreement: must be between 0 and 1");
  }
  return Status::Ok();
}

ConsensusBuilder::ConsensusBuilder(ConsensusSettings settings, size_t models, int64_t output_width)
    : settings_(std::move(settings)),
      models_(models),
      width_(output_width),
      classes_(output_width == 1 ? 2 : output_width),
      class_counts_(static_cast<size_t>(classes_), 0),
      model_agree_(models, 0),
      model_class_counts_(models, std::vector<int64_t>(static_cast<size_t>(classes_), 0)),
      pair_same_(models, std::vector<int64_t>(models, 0)) {}

Result<ConsensusBuilder> ConsensusBuilder::Create(ConsensusSettings settings, size_t models,
                                                  int64_t output_width) {
  DIM_RETURN_IF_ERROR(CheckConsensusSettings(settings, models));
  if (output_width < 1) {
    return Status::InvalidArgument("the models have no outputs to compare");
  }
  return ConsensusBuilder(std::move(settings), models, output_width);
}

int64_t ConsensusBuilder::ClassOf(const float* row) const {
  if (width_ == 1) return row[0] >= 0.5f ? 1 : 0;
  int64_t best = 0;
  for (int64_t c = 1; c < width_; ++c) {
    if (row[c] > row[best]) best = c;
  }
  return best;
}

Status ConsensusBuilder::Add(const std::vector<Matrix>& outputs) {
  if (outputs.size() != models_) {
    return Status::InvalidArgument("consensus: expected the outputs of " + std::to_string(models_) +
                                   " models, got " + std::to_string(outputs.size()));
  }
  const int64_t rows = outputs[0].rows();
  for (const auto& m : outputs) {
    if (m.rows() != rows || m.cols() != width_) {
      return Status::InvalidArgument("consensus: model outputs of " + std::to_string(m.rows()) +
                                     "x" + std::to_string(m.cols()) + ", expected " +
                                     std::to_string(rows) + "x" + std::to_string(width_));
    }
  }
  const auto n = static_cast<int64_t>(models_);
  const size_t classes = static_cast<size_t>(classes_);
  std::vector<int64_t> chosen(models_);
  std::vector<int64_t> votes(classes);
  std::vector<double> weight_sums(classes);
  std::vector<double> output_sums(static_cast<size_t>(width_));
  for (int64_t r = 0; r < rows; ++r, ++rows_) {
    std::fill(votes.begin(), votes.end(), 0);
    for (size_t m = 0; m < models_; ++m) {
      chosen[m] = ClassOf(outputs[m].row(r).data());
      ++votes[static_cast<size_t>(chosen[m])];
      ++model_class_counts_[m][static_cast<size_t>(chosen[m])];
    }
    const int64_t majority = FirstMax(votes);
    int64_t voted = majority;
    bool has_consensus = true;
    switch (settings_.method) {
      case ConsensusMethod::kMajorityVote:
      case ConsensusMethod::kExpertReview:
        break;
      case ConsensusMethod::kWeightedVote:
        std::fill(weight_sums.begin(), weight_sums.end(), 0.0);
        for (size_t m = 0; m < models_; ++m) {
          weight_sums[static_cast<size_t>(chosen[m])] += settings_.weights[m];
        }
        voted = FirstMax(weight_sums);
        break;
      case ConsensusMethod::kAverage: {
        std::fill(output_sums.begin(), output_sums.end(), 0.0);
        for (size_t m = 0; m < models_; ++m) {
          const float* row = outputs[m].row(r).data();
          for (int64_t c = 0; c < width_; ++c) output_sums[static_cast<size_t>(c)] += row[c];
        }
        if (width_ == 1) {
          voted = output_sums[0] / static_cast<double>(n) >= 0.5 ? 1 : 0;
        } else {
          // The mean's argmax is the sum's: dividing by the model count keeps the order.
          voted = FirstMax(output_sums);
        }
        break;
      }
      case ConsensusMethod::kUnanimous:
        has_consensus = votes[static_cast<size_t>(majority)] == n;
        break;
    }
    const int64_t agreeing = votes[static_cast<size_t>(voted)];
    agreeing_votes_ += agreeing;
    if (has_consensus) {
      ++class_counts_[static_cast<size_t>(voted)];
    } else {
      ++no_consensus_;
      ++review_count_;
    }
    for (size_t i = 0; i < models_; ++i) {
      if (chosen[i] == voted) ++model_agree_[i];
      for (size_t j = i + 1; j < models_; ++j) {
        if (chosen[i] == chosen[j]) ++pair_same_[i][j];
      }
    }
    if (settings_.method == ConsensusMethod::kExpertReview &&
        Fraction(agreeing, n) < settings_.min_agreement) {
      ++review_count_;
      if (review_rows_.size() < kMaxReviewRows) {
        review_rows_.push_back(rows_);
      } else {
        review_truncated_ = true;
      }
    }
  }
  return Status::Ok();
}

ConsensusResult ConsensusBuilder::Finish() const {
  ConsensusResult out;
  out.rows = rows_;
  out.classes = classes_;
  out.class_counts = class_counts_;
  out.no_consensus = no_consensus_;
  out.agreement_level = Fraction(agreeing_votes_, rows_ * static_cast<int64_t>(models_));
  out.model_class_counts = model_class_counts_;
  out.pairwise_agreement.assign(models_, std::vector<double>(models_, 0.0));
  for (size_t i = 0; i < models_; ++i) {
    out.model_agreement.push_back(Fraction(model_agree_[i], rows_));
    out.pairwise_agreement[i][i] = rows_ > 0 ? 1.0 : 0.0;
    for (size_t j = i + 1; j < models_; ++j) {
      out.pairwise_agreement[i][j] = out.pairwise_agreement[j][i] =
          Fraction(pair_same_[i][j], rows_);
    }
  }
  out.review_count = review_count_;
  out.review_rows = review_rows_;
  out.review_rows_truncated = review_truncated_;
  return out;
}

nlohmann::json ConsensusToJson(const ConsensusResult& result, ConsensusMethod method) {
  nlohmann::json j = {
      {"rows", result.rows},
      {"classes", result.classes},
      {"class_counts", result.class_counts},
      {"no_consensus", result.no_consensus},
      {"agreement_level", result.agreement_level},
      {"model_agreement", result.model_agreement},
      {"model_class_counts", result.model_class_counts},
      {"pairwise_agreement", result.pairwise_agreement},
      {"review_count", result.review_count},
  };
  if (method == ConsensusMethod::kExpertReview) {
    j["review_rows"] = result.review_rows;
    j["review_rows_truncated"] = result.review_rows_truncated;
  }
  return j;
}

}  // namespace dim::core
