#include "core/stats/node_mean_aggregation.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace dim::core {
namespace {

// Checks the parts fit together and fills rows, min, max and class counts; mean and
// variance are left for the method.
Result<Summary> CommonFigures(std::span<const Summary> parts) {
  if (parts.empty()) return Status::InvalidArgument("no node summary to aggregate");
  Summary out;
  for (size_t p = 0; p < parts.size(); ++p) {
    const Summary& part = parts[p];
    if (part.rows <= 0) {
      return Status::InvalidArgument("summary " + std::to_string(p) + " has no rows");
    }
    if (p == 0) {
      out = part;
      continue;
    }
    if (part.columns.size() != out.columns.size()) {
      return Status::InvalidArgument("summary " + std::to_string(p) + " has " +
                                     std::to_string(part.columns.size()) + " columns, the others " +
                                     std::to_string(out.columns.size()));
    }
    if (part.class_counts.size() != out.class_counts.size()) {
      return Status::InvalidArgument(
          "summary " + std::to_string(p) + " has " + std::to_string(part.class_counts.size()) +
          " class counts, the others " + std::to_string(out.class_counts.size()));
    }
    for (size_t j = 0; j < out.columns.size(); ++j) {
      out.columns[j].min = std::min(out.columns[j].min, part.columns[j].min);
      out.columns[j].max = std::max(out.columns[j].max, part.columns[j].max);
    }
    for (size_t k = 0; k < out.class_counts.size(); ++k) {
      out.class_counts[k] += part.class_counts[k];
    }
    out.rows += part.rows;
  }
  return out;
}

// Applies `statistic` to the nodes' values of one figure of each column.
void PerColumn(std::span<const Summary> parts, Summary& out,
               const std::function<double(std::vector<double>)>& statistic) {
  for (size_t j = 0; j < out.columns.size(); ++j) {
    std::vector<double> means, variances;
    for (const Summary& part : parts) {
      means.push_back(part.columns[j].mean);
      variances.push_back(part.columns[j].variance);
    }
    out.columns[j].mean = statistic(std::move(means));
    out.columns[j].variance = statistic(std::move(variances));
  }
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

}  // namespace

size_t TrimmedPerEnd(size_t n, double trim) {
  return static_cast<size_t>(std::floor(trim * static_cast<double>(n)));
}

Result<Summary> WeightedAverageOfNodes(std::span<const Summary> parts,
                                       std::span<const double> weights) {
  if (weights.size() != parts.size()) {
    return Status::InvalidArgument(std::to_string(weights.size()) + " weights for " +
                                   std::to_string(parts.size()) + " node summaries");
  }
  double largest = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!std::isfinite(weights[i]) || weights[i] < 0) {
      return Status::InvalidArgument("weight " + std::to_string(i) +
                                     " must be a finite number >= 0");
    }
    largest = std::max(largest, weights[i]);
  }
  if (largest <= 0) return Status::InvalidArgument("the weights are all zero");
  // Normalised through the largest weight first, so that huge weights (1.7e308 each) cannot
  // overflow their sum into infinity and every share into 0.
  std::vector<double> share(weights.size());
  double total = 0;
  for (size_t i = 0; i < weights.size(); ++i) total += (share[i] = weights[i] / largest);
  for (double& w : share) w /= total;
  DIM_ASSIGN_OR_RETURN(Summary out, CommonFigures(parts));
  for (size_t j = 0; j < out.columns.size(); ++j) {
    double mean = 0;
    for (size_t i = 0; i < parts.size(); ++i) mean += share[i] * parts[i].columns[j].mean;
    double variance = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      const double d = parts[i].columns[j].mean - mean;
      variance += share[i] * (parts[i].columns[j].variance + d * d);
    }
    out.columns[j].mean = mean;
    out.columns[j].variance = variance;
  }
  return out;
}

Result<Summary> MedianOfNodes(std::span<const Summary> parts) {
  DIM_ASSIGN_OR_RETURN(Summary out, CommonFigures(parts));
  PerColumn(parts, out, Median);
  return out;
}

Result<Summary> TrimmedMeanOfNodes(std::span<const Summary> parts, double trim) {
  if (!(trim >= 0 && trim < 0.5)) {
    return Status::InvalidArgument("trim must be in [0, 0.5), got " + std::to_string(trim));
  }
  DIM_ASSIGN_OR_RETURN(Summary out, CommonFigures(parts));
  const size_t cut = TrimmedPerEnd(parts.size(), trim);
  PerColumn(parts, out, [cut](std::vector<double> values) {
    std::sort(values.begin(), values.end());
    // cut < n / 2 since trim < 0.5, so at least one value is left.
    double sum = 0;
    for (size_t i = cut; i < values.size() - cut; ++i) sum += values[i];
    return sum / static_cast<double>(values.size() - 2 * cut);
  });
  return out;
}

}  // namespace dim::core
