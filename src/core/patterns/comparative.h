// The comparative pattern: several models on one node's data, voted on that node; only the
// vote's figures leave it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/clock.h"
#include "core/job/comparative_config.h"
#include "core/node/node_client.h"
#include "core/patterns/node_runs.h"

namespace dim::core {

// The node that runs the job. With config.node_id: the node must exist (NOT_FOUND
// "$.node_id: node 'x' not found (known nodes: ...)") and, where it has described itself,
// hold the dataset ("$.dataset: node 'x' has no dataset 'd' (it has: ...)") and every model
// ("$.model_ids[i]: model 'm' not found on node 'x'"). Without: of the active described
// nodes that hold the dataset and every model, the one with the most free task slots
// (FreeCapacity), then the best reputation, then the first by id; NOT_FOUND
// "$.dataset: no active node holds dataset 'd'", or "$.model_ids: no active node that holds
// dataset 'd' has all the models (a lacks 'm'; b lacks 'n')".
Result<std::string> SelectComparativeNode(const ComparativeConfig& config,
                                          NodeDirectory& directory);

// Runs the job's one node task on `node_id` and returns the result document:
//   {"pattern": "comparative", "model_ids": [...], "node_id", "dataset",
//    "consensus_method", ("weights" | "min_agreement" for the methods that take them),
//    <the node's ConsensusToJson figures: rows, classes, class_counts, no_consensus,
//     agreement_level, model_agreement, model_class_counts, pairwise_agreement,
//     review_count, review_rows, review_rows_truncated>,
//    "node": {"node_id", "status", "execution_time"}}
// The node's error when its task fails (DEADLINE_EXCEEDED past config.timeout_seconds);
// CANCELLED when `cancel` is raised; INTERNAL when the node's document is not a vote.
// The task of a comparative job, on its one node.
NodeTask ComparativeTask(const std::string& job_id, const ComparativeConfig& config);

Result<nlohmann::json> RunComparative(const std::string& job_id, const ComparativeConfig& config,
                                      const std::string& node_id, NodeDirectory& directory,
                                      const CancelToken& cancel, const Clock& clock,
                                      const NodeUpdateFn& on_update);

}  // namespace dim::core
