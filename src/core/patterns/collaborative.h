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
// "$.dataset: ..." / "$.model_id: ..."). Without: every active node that holds the dataset
// and the model (NOT_FOUND "$.dataset: ..." or "$.model_id: ..." when there is none). INVALID_ARGUMENT when min_nodes exceeds the
// node count.
Result<std::vector<std::string>> SelectCollaborativeNodes(const CollaborativeConfig& config,
                                                          NodeDirectory& directory);

// Runs the job on `nodes` in parallel and pools the summaries (federated averaging).
// A node that fails or runs past config.timeout_seconds is dropped and listed with its
// error while at least min_nodes (default: all) succeed; otherwise FAILED_PRECONDITION
// naming each failed node. CANCELLED when `cancel` is raised (node tasks are told to stop).
// Returns the result document described in SPEC.md section 2.
Result<nlohmann::json> RunCollaborative(const std::string& job_id,
                                        const CollaborativeConfig& config,
                                        const std::vector<std::string>& nodes,
                                        NodeDirectory& directory, const CancelToken& cancel,
                                        const Clock& clock, const NodeUpdateFn& on_update);

}  // namespace dim::core
