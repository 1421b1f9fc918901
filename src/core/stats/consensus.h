// The comparative pattern's vote: several models' outputs for the same rows, reduced row by
// row to a consensus class, and accumulated into figures that may leave the node.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <vector>

#include "core/matrix.h"
#include "core/status.h"

namespace dim::core {

// How a row's consensus class is chosen from the models' outputs. A model's class for a row
// is the argmax of its output row (ties to the lowest index); a model with one output is a
// binary classifier: class 1 when the output is >= 0.5, else class 0.
enum class ConsensusMethod {
  // The class most models chose; ties go to the lowest class index.
  kMajorityVote,
  // The class with the largest sum of the weights of the models that chose it; exactly equal
  // sums go to the lowest class index.
  kWeightedVote,
  // The class of the mean of the models' output rows (argmax, or >= 0.5 for one output);
  // ties to the lowest index.
  kAverage,
  // The class all models chose; a row on which they do not all agree has no consensus.
  kUnanimous,
  // Majority vote, and rows whose agreement is below min_agreement are flagged for review.
  kExpertReview,
};

// "majority_vote", "weighted_vote", "average", "unanimous", "expert_review".
std::string_view ConsensusMethodName(ConsensusMethod method);
std::optional<ConsensusMethod> ParseConsensusMethod(std::string_view name);
// The five names, in the order above.
const std::vector<std::string_view>& ConsensusMethodNames();

struct ConsensusSettings {
  ConsensusMethod method = ConsensusMethod::kMajorityVote;
  // weighted_vote only: one non-negative weight per model, not all zero.
  std::vector<double> weights;
  // expert_review only: a row is flagged when the fraction of models that chose its
  // consensus class is below this, in [0, 1]. The default 1.0 flags every row on which the
  // models are not unanimous.
  double min_agreement = 1.0;
};

// INVALID_ARGUMENT when the settings do not fit `models` models: fewer than 2 models;
// weights given for a method other than weighted_vote, missing for weighted_vote, not one
// per model, negative, not finite, or all zero; min_agreement outside [0, 1]. Messages name
// the setting first ("weights: 3 weights for 2 models").
[[nodiscard]] Status CheckConsensusSettings(const ConsensusSettings& settings, size_t models);

// The rows flagged for review that a result lists; further ones are only counted.
inline constexpr size_t kMaxReviewRows = 1000;

// What leaves the node: figures over all rows, never a row's values.
struct ConsensusResult {
  int64_t rows = 0;
  // Classes a row can have: the models' output width, or 2 for one output.
  int64_t classes = 0;
  // Rows per consensus class (length `classes`). For unanimous, rows with no consensus are
  // not in these counts but in no_consensus; for the other methods no_consensus is 0.
  std::vector<int64_t> class_counts;
  int64_t no_consensus = 0;
  // Agreement figures compare each model's class with the row's voted class: the consensus,
  // or, on a unanimous vote's rows without one, the majority-vote class. They count models
  // (weights do not enter them).
  // Mean over rows of the fraction of models that chose the voted class (0 with no rows).
  double agreement_level = 0;
  // Per model (in the models' order): fraction of rows on which it chose the voted class.
  std::vector<double> model_agreement;
  // Per model: rows per class it chose.
  std::vector<std::vector<int64_t>> model_class_counts;
  // [i][j]: fraction of rows on which models i and j chose the same class (1 on the
  // diagonal; 0 everywhere with no rows).
  std::vector<std::vector<double>> pairwise_agreement;
  // expert_review: rows whose agreement is below min_agreement; unanimous: rows with no
  // consensus; 0 for the other methods.
  int64_t review_count = 0;
  // expert_review only: the 0-based data row indices of the first kMaxReviewRows flagged
  // rows, ascending; review_rows_truncated when there were more.
  std::vector<int64_t> review_rows;
  bool review_rows_truncated = false;
};

// Accumulates the vote batch by batch. Memory does not grow with the rows, except for the
// review row list (at most kMaxReviewRows entries). Not thread-safe.
class ConsensusBuilder final {
 public:
  // INVALID_ARGUMENT from CheckConsensusSettings, or when output_width < 1.
  static Result<ConsensusBuilder> Create(ConsensusSettings settings, size_t models,
                                         int64_t output_width);

  // outputs[m]: model m's outputs for the same batch of rows (rows x output_width).
  // INVALID_ARGUMENT when the number of matrices is not the number of models, or their
  // shapes differ from one another or from output_width. Nothing is added on error.
  [[nodiscard]] Status Add(const std::vector<Matrix>& outputs);

  ConsensusResult Finish() const;

 private:
  ConsensusBuilder(ConsensusSettings settings, size_t models, int64_t output_width);
  int64_t ClassOf(const float* row) const;

  ConsensusSettings settings_;
  size_t models_;
  int64_t width_;
  int64_t classes_;
  int64_t rows_ = 0;
  std::vector<int64_t> class_counts_;
  int64_t no_consensus_ = 0;
  int64_t agreeing_votes_ = 0;  // sum over rows of the models that chose the voted class
  std::vector<int64_t> model_agree_;
  std::vector<std::vector<int64_t>> model_class_counts_;
  std::vector<std::vector<int64_t>> pair_same_;
  int64_t review_count_ = 0;
  std::vector<int64_t> review_rows_;
  bool review_truncated_ = false;
};

// {"rows", "classes", "class_counts", "no_consensus", "agreement_level",
//  "model_agreement": [...], "model_class_counts": [[...]...], "pairwise_agreement": [[...]...],
//  "review_count"} and, for expert_review, "review_rows" and "review_rows_truncated".
nlohmann::json ConsensusToJson(const ConsensusResult& result, ConsensusMethod method);

}  // namespace dim::core
