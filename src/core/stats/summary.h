// Summaries of a node task's output matrix, and their exact pooling across nodes.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/matrix.h"
#include "core/status.h"

namespace dim::core {

// Per output column. variance is the population variance (divides by rows), so pooled
// summaries reproduce exactly the variance of all rows pooled.
struct ColumnSummary {
  double mean = 0;
  double variance = 0;
  double min = 0;
  double max = 0;
};

// What leaves a node: never rows, only these figures.
struct Summary {
  int64_t rows = 0;
  std::vector<ColumnSummary> columns;
  // Count of rows per predicted class; empty when the task is not a classification.
  // A classifier's own label decides when the model gives one in 0..classes-1; otherwise,
  // for one output column the class is 1 when the value is >= 0.5, else 0; for several,
  // it is the argmax (ties to the lowest index).
  std::vector<int64_t> class_counts;
};

// Accumulates batches with a numerically stable streaming update (Welford/Chan).
// Not thread-safe.
class SummaryBuilder final {
 public:
  // count_classes: whether to count predicted classes (see Summary::class_counts).
  explicit SummaryBuilder(bool count_classes);

  // outputs: rows x width; the width is fixed by the first non-empty batch. A batch with no
  // rows is ignored. labels: empty, or the model's predicted label per row, which counts
  // the row's class when it is one of 0..classes-1. INVALID_ARGUMENT when a later batch has
  // another width, when a batch has rows but no columns, or labels of another length.
  [[nodiscard]] Status Add(const Matrix& outputs, std::span<const int64_t> labels = {});

  // The summary of all rows added so far (rows == 0 and no columns when none).
  Summary Finish() const;

 private:
  bool count_classes_;
  int64_t rows_ = 0;
  std::vector<double> mean_, m2_, min_, max_;
  std::vector<int64_t> class_counts_;
};

// Pools summaries so that rows, mean, variance, min and max equal those of the rows
// pooled (Chan et al.'s parallel combination); class counts are summed.
// INVALID_ARGUMENT when the summaries have different column counts or class counts, or
// negative rows. Summaries with zero rows are skipped; with none left the result has
// rows == 0 and no columns.
Result<Summary> PoolSummaries(std::span<const Summary> parts);

// {"rows": N, "columns": [{"mean", "variance", "std", "min", "max"}...],
//  "class_counts": [...]} (class_counts only when non-empty).
nlohmann::json SummaryToJson(const Summary& summary);
// The inverse; INVALID_ARGUMENT naming the missing or mistyped field by its path
// ("$.columns[1].mean: missing required key", "$.rows: expected a non-negative integer,
// got string"), or a negative variance or count. "std" and unknown keys are ignored.
Result<Summary> SummaryFromJson(const nlohmann::json& json);

}  // namespace dim::core
