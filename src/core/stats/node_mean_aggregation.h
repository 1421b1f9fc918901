// Aggregating per-node summaries by their means, for the collaborative methods other than
// federated averaging: weighted_average, median and trimmed_mean. Unlike PoolSummaries these
// treat each node as one voice, so that one node with odd data (or an odd model run) cannot
// drag the result as far as its row count would let it.
#pragma once

#include <span>
#include <vector>

#include "core/stats/summary.h"
#include "core/status.h"

namespace dim::core {

// Every function below takes the summaries of the nodes that succeeded (at least one, none
// with zero rows) and returns one Summary whose
//   rows          is the sum of the nodes' rows,
//   class_counts  are summed (every part must have as many),
//   columns[j].min / max are the min / max over the nodes,
//   columns[j].mean and .variance are the method's statistic of the nodes' figures:
// INVALID_ARGUMENT when there is no part, a part has no rows, or the parts' column or class
// counts differ ("summary 2 has 3 columns, the others 2").

// Per column, mean = sum_i w_i * mean_i and variance = sum_i w_i * (variance_i +
// (mean_i - mean)^2), with the weights normalised to sum to 1: the mean and variance of the
// mixture in which node i has weight w_i. With weights proportional to the nodes' rows this
// is exactly the pooled mean and variance (federated averaging). weights[i] belongs to
// parts[i]; INVALID_ARGUMENT when the sizes differ, a weight is negative or not finite, or
// every weight is zero.
Result<Summary> WeightedAverageOfNodes(std::span<const Summary> parts,
                                       std::span<const double> weights);

// Per column, mean = the median of the node means and variance = the median of the node
// variances (each sorted on its own); with an even number of nodes, the mean of the two
// middle values.
Result<Summary> MedianOfNodes(std::span<const Summary> parts);

// Per column, the node means are sorted, floor(trim * n) are dropped from each end and the
// rest averaged (equal weight per node); variance is the same trimmed mean of the node
// variances. trim in [0, 0.5), else INVALID_ARGUMENT; with trim 0 this is the plain mean of
// the node means.
Result<Summary> TrimmedMeanOfNodes(std::span<const Summary> parts, double trim);

// How many node figures TrimmedMeanOfNodes drops from each end: floor(trim * n).
size_t TrimmedPerEnd(size_t n, double trim);

}  // namespace dim::core
