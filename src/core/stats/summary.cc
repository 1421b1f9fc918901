#include "core/stats/summary.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

namespace dim::core {
namespace {

// Chan et al.: merges (n_b, mean_b, m2_b) into (n_a, mean_a, m2_a), where m2 is the sum of
// squared deviations from the mean. Exact in real arithmetic, stable in floating point.
void Combine(int64_t n_a, double* mean_a, double* m2_a, int64_t n_b, double mean_b, double m2_b) {
  const double n = static_cast<double>(n_a + n_b);
  const double delta = mean_b - *mean_a;
  const double weight_b = static_cast<double>(n_b) / n;
  *mean_a += delta * weight_b;
  *m2_a += m2_b + delta * delta * static_cast<double>(n_a) * weight_b;
}

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

Status TypeError(const std::string& path, std::string_view expected, const nlohmann::json& got) {
  return Status::InvalidArgument(path + ": expected " + std::string(expected) + ", got " +
                                 got.type_name());
}

// The member `key` of `object` (at `path`), which must be present.
Result<const nlohmann::json*> Member(const nlohmann::json& object, const std::string& path,
                                     const char* key) {
  auto it = object.find(key);
  if (it == object.end()) {
    return Status::InvalidArgument(path + "." + key + ": missing required key");
  }
  return &*it;
}

Result<double> ReadNumber(const nlohmann::json& value, const std::string& path) {
  if (!value.is_number()) return TypeError(path, "a number", value);
  return value.get<double>();
}

Result<int64_t> ReadCount(const nlohmann::json& value, const std::string& path) {
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Status::InvalidArgument(path + ": too large");
    }
    return static_cast<int64_t>(value.get<uint64_t>());
  }
  if (value.is_number_integer()) {
    int64_t n = value.get<int64_t>();
    if (n < 0) return Status::InvalidArgument(path + ": must be >= 0, got " + std::to_string(n));
    return n;
  }
  return TypeError(path, "a non-negative integer", value);
}

Result<ColumnSummary> ReadColumn(const nlohmann::json& json, const std::string& path) {
  if (!json.is_object()) return TypeError(path, "an object", json);
  ColumnSummary column;
  std::pair<const char*, double*> fields[] = {{"mean", &column.mean},
                                              {"variance", &column.variance},
                                              {"min", &column.min},
                                              {"max", &column.max}};
  for (auto [key, out] : fields) {
    DIM_ASSIGN_OR_RETURN(const nlohmann::json* value, Member(json, path, key));
    DIM_ASSIGN_OR_RETURN(*out, ReadNumber(*value, path + "." + key));
  }
  if (column.variance < 0) {
    return Status::InvalidArgument(path + ".variance: must be >= 0, got " +
                                   nlohmann::json(column.variance).dump());
  }
  return column;
}

}  // namespace

SummaryBuilder::SummaryBuilder(bool count_classes) : count_classes_(count_classes) {}

Status SummaryBuilder::Add(const Matrix& outputs, std::span<const int64_t> labels) {
  const int64_t rows = outputs.rows();
  if (rows == 0) return Status::Ok();
  if (!labels.empty() && static_cast<int64_t>(labels.size()) != rows) {
    return Status::InvalidArgument(std::to_string(labels.size()) + " labels for " +
                                   std::to_string(rows) + " rows");
  }
  const auto width = static_cast<size_t>(outputs.cols());
  if (width == 0) return Status::InvalidArgument("outputs have rows but no columns");
  if (mean_.empty()) {
    mean_.assign(width, 0.0);
    m2_.assign(width, 0.0);
    min_.resize(width);
    max_.resize(width);
    for (size_t j = 0; j < width; ++j) {
      min_[j] = max_[j] = static_cast<double>(outputs(0, static_cast<Eigen::Index>(j)));
    }
    if (count_classes_) class_counts_.assign(width == 1 ? 2 : width, 0);
  } else if (width != mean_.size()) {
    return Status::InvalidArgument("outputs have " + std::to_string(width) +
                                   " columns, earlier batches had " + std::to_string(mean_.size()));
  }

  // Welford over this batch, then Chan to merge it into the running figures: the batch's
  // own mean keeps the update well conditioned whatever the magnitude of the running mean.
  std::vector<double> batch_mean(width, 0.0), batch_m2(width, 0.0);
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = outputs.data() + i * static_cast<int64_t>(width);
    const double inv_n = 1.0 / static_cast<double>(i + 1);
    for (size_t j = 0; j < width; ++j) {
      const double x = static_cast<double>(row[j]);
      const double delta = x - batch_mean[j];
      batch_mean[j] += delta * inv_n;
      batch_m2[j] += delta * (x - batch_mean[j]);
      min_[j] = std::min(min_[j], x);
      max_[j] = std::max(max_[j], x);
    }
    if (count_classes_) {
      const int64_t classes = static_cast<int64_t>(class_counts_.size());
      if (!labels.empty() && labels[static_cast<size_t>(i)] >= 0 &&
          labels[static_cast<size_t>(i)] < classes) {
        ++class_counts_[static_cast<size_t>(labels[static_cast<size_t>(i)])];
      } else if (width == 1) {
        ++class_counts_[row[0] >= 0.5f ? 1 : 0];
      } else {
        // max_element returns the first of equal maxima: ties go to the lowest index.
        ++class_counts_[static_cast<size_t>(std::max_element(row, row + width) - row)];
      }
    }
  }
  for (size_t j = 0; j < width; ++j) {
    Combine(rows_, &mean_[j], &m2_[j], rows, batch_mean[j], batch_m2[j]);
  }
  rows_ += rows;
  return Status::Ok();
}

Summary SummaryBuilder::Finish() const {
  Summary summary;
  summary.rows = rows_;
  if (rows_ == 0) return summary;
  summary.columns.resize(mean_.size());
  for (size_t j = 0; j < mean_.size(); ++j) {
    summary.columns[j] = {mean_[j], m2_[j] / static_cast<double>(rows_), min_[j], max_[j]};
  }
  summary.class_counts = class_counts_;
  return summary;
}

Result<Summary> PoolSummaries(std::span<const Summary> parts) {
  Summary pooled;
  std::vector<double> m2;
  bool first = true;
  for (size_t p = 0; p < parts.size(); ++p) {
    const Summary& part = parts[p];
    if (part.rows < 0) {
      return Status::InvalidArgument("summary " + std::to_string(p) + " has " +
                                     std::to_string(part.rows) + " rows");
    }
    if (part.rows == 0) continue;
    if (first) {
      first = false;
      pooled = part;
      m2.resize(part.columns.size());
      for (size_t j = 0; j < m2.size(); ++j) {
        m2[j] = part.columns[j].variance * static_cast<double>(part.rows);
      }
      continue;
    }
    if (part.columns.size() != pooled.columns.size()) {
      return Status::InvalidArgument("summary " + std::to_string(p) + " has " +
                                     std::to_string(part.columns.size()) + " columns, the others " +
                                     std::to_string(pooled.columns.size()));
    }
    if (part.class_counts.size() != pooled.class_counts.size()) {
      return Status::InvalidArgument(
          "summary " + std::to_string(p) + " has " + std::to_string(part.class_counts.size()) +
          " class counts, the others " + std::to_string(pooled.class_counts.size()));
    }
    for (size_t j = 0; j < m2.size(); ++j) {
      ColumnSummary& into = pooled.columns[j];
      const ColumnSummary& from = part.columns[j];
      Combine(pooled.rows, &into.mean, &m2[j], part.rows, from.mean,
              from.variance * static_cast<double>(part.rows));
      into.min = std::min(into.min, from.min);
      into.max = std::max(into.max, from.max);
    }
    for (size_t k = 0; k < pooled.class_counts.size(); ++k) {
      pooled.class_counts[k] += part.class_counts[k];
    }
    pooled.rows += part.rows;
  }
  for (size_t j = 0; j < m2.size(); ++j) {
    pooled.columns[j].variance = m2[j] / static_cast<double>(pooled.rows);
  }
  return pooled;
}

nlohmann::json SummaryToJson(const Summary& summary) {
  nlohmann::json columns = nlohmann::json::array();
  for (const ColumnSummary& c : summary.columns) {
    columns.push_back({{"mean", c.mean},
                       {"variance", c.variance},
                       {"std", std::sqrt(c.variance)},
                       {"min", c.min},
                       {"max", c.max}});
  }
  nlohmann::json json = {{"rows", summary.rows}, {"columns", std::move(columns)}};
  if (!summary.class_counts.empty()) json["class_counts"] = summary.class_counts;
  return json;
}

Result<Summary> SummaryFromJson(const nlohmann::json& json) {
  const std::string root = "$";
  if (!json.is_object()) return TypeError(root, "an object", json);
  Summary summary;
  DIM_ASSIGN_OR_RETURN(const nlohmann::json* rows, Member(json, root, "rows"));
  DIM_ASSIGN_OR_RETURN(summary.rows, ReadCount(*rows, "$.rows"));

  DIM_ASSIGN_OR_RETURN(const nlohmann::json* columns, Member(json, root, "columns"));
  if (!columns->is_array()) return TypeError("$.columns", "an array", *columns);
  for (size_t i = 0; i < columns->size(); ++i) {
    DIM_ASSIGN_OR_RETURN(ColumnSummary column, ReadColumn((*columns)[i], Index("$.columns", i)));
    summary.columns.push_back(column);
  }

  auto counts = json.find("class_counts");
  if (counts != json.end()) {
    if (!counts->is_array()) return TypeError("$.class_counts", "an array", *counts);
    for (size_t i = 0; i < counts->size(); ++i) {
      DIM_ASSIGN_OR_RETURN(int64_t count, ReadCount((*counts)[i], Index("$.class_counts", i)));
      summary.class_counts.push_back(count);
    }
  }
  return summary;
}

}  // namespace dim::core
