// The collaborative pattern: one model on each node's own data; only summaries leave nodes.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/job/collaborative_config.h"
#include "core/job_types.h"
#include "core/node/node_client.h"
#include "core/patterns/node_runs.h"

namespace dim::core {

// The nodes a job will use. With config.nodes: each must exist (NOT_FOUND "$.nodes[i]: ..."),
// and, where the node has described itself, hold the dataset and the model (NOT_FOUND
// "$.dataset: ..." / "$.model_id: ..."). Without: the active nodes that hold the dataset
// and the model, carry config.labels and reach config.reputation_min, at most
// config.max_nodes of them, those with the most free task slots (FreeCapacity) first, then
// the best reputation; sorted by id (NOT_FOUND "$.dataset: ...", "$.model_id: ...",
// "$.labels: ..." or "$.reputation_min: ..." naming the filter that left no node).
// INVALID_ARGUMENT when min_nodes exceeds the node count, and, when the orchestrator chose
// the nodes, when aggregation.weights lacks a chosen node ("$.aggregation.weights: no weight
// for node 'x'") or names one not chosen ("$.aggregation.weights.y: ...").
Result<std::vector<std::string>> SelectCollaborativeNodes(const CollaborativeConfig& config,
                                                          NodeDirectory& directory);

// Runs the job on `nodes` in parallel and aggregates the nodes' summaries by
// config.aggregation_method:
//   federated_averaging  the exact figures of all rows pooled (PoolSummaries);
//   weighted_average     per column the weighted mean of the node means, and the variance of
//                        that weighted mixture (WeightedAverageOfNodes); the weights are
//                        config.weights, else each node's reputation when the job started
//                        (NodeDescription::reputation); either way normalised over the nodes
//                        that succeeded;
//   median               per column the median of the node means, and the median of the node
//                        variances (MedianOfNodes);
//   trimmed_mean         per column the mean of the node means left after dropping
//                        floor(trim * n) from each end, likewise for variances
//                        (TrimmedMeanOfNodes).
// Whatever the method, the aggregate has rows (sum), nodes_used, columns [{mean, variance,
// std, min, max}] (min / max over the nodes) and, for a classification, class_counts
// (summed); nodes that returned no rows take no part in the node-mean methods. With
// config.differential_privacy, the nodes clip their outputs and add Laplace noise to their
// summaries themselves (the task carries the settings); the aggregate is computed from those
// noisy summaries.
// A node that fails or runs past config.timeout_seconds is dropped and listed with its
// error while at least min_nodes (default: all) succeed; otherwise FAILED_PRECONDITION
// naming each failed node; FAILED_PRECONDITION too when every node that succeeded has
// weight 0. CANCELLED when `cancel` is raised (node tasks are told to stop).
// Returns the result document described in SPEC.md section 2: pattern, model_id, dataset,
// aggregation_method, then weights ({node: normalised weight}) and weights_source ("config"
// or "reputation") for weighted_average, trim and trimmed_per_end for trimmed_mean,
// differential_privacy {epsilon, clip} when set, then aggregate and nodes (each with its
// status, execution_time, and summary or error).
// The task each node of a collaborative job runs.
NodeTask CollaborativeTask(const std::string& job_id, const CollaborativeConfig& config);

Result<nlohmann::json> RunCollaborative(const std::string& job_id,
                                        const CollaborativeConfig& config,
                                        const std::vector<std::string>& nodes,
                                        NodeDirectory& directory, const CancelToken& cancel,
                                        const Clock& clock, const NodeUpdateFn& on_update);

}  // namespace dim::core
