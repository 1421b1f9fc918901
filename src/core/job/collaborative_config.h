// The collaborative pattern's config_json: parsing and validation.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/stats/private_summary.h"
#include "core/status.h"

namespace dim::core {

struct CollaborativeConfig {
  std::string model_id;
  // Explicit node ids; empty means the orchestrator chooses nodes that hold `dataset`.
  std::vector<std::string> nodes;
  std::string dataset = "default";
  // Feature columns fed to the model, in order; empty means every column of the dataset.
  std::vector<std::string> columns;
  // federated_averaging, weighted_average, median or trimmed_mean (see RunCollaborative).
  std::string aggregation_method = "federated_averaging";
  // weighted_average: the weight of each node, by node id, as given (not normalised).
  // Empty: each node weighs its reputation (NodeDescription::reputation).
  std::map<std::string, double> weights = {};
  // trimmed_mean: the fraction of nodes dropped from each end, in [0, 0.5).
  double trim = 0.1;
  // When set, every node clips its outputs and adds Laplace noise to its summary.
  std::optional<DifferentialPrivacy> differential_privacy = std::nullopt;
  // "", "classification" or "regression"; "" decides by output width (> 1: classification).
  std::string task;
  // Quorum: the job fails when fewer nodes succeed. 0 means every listed node.
  int min_nodes = 0;
  // Per-node time limit in seconds; 0 means none.
  double timeout_seconds = 0;
  // When the orchestrator chooses the nodes (no `nodes`): only nodes whose reputation is at
  // least this, that carry every one of these labels, and at most max_nodes of them (0: no
  // limit), those with the most free task slots first.
  double reputation_min = 0;
  std::map<std::string, std::string> labels = {};
  int max_nodes = 0;
};

// Parses config_json. Keys are accepted in snake_case and camelCase alike (model_id,
// modelId); giving both spellings of one key is an error. Keys:
//   model_id     string, required, non-empty
//   nodes        array of non-empty, unique strings
//   dataset      non-empty string, default "default"
//   columns      array of non-empty, unique strings
//   aggregation  an object, or the method's name as a string (short for {"method": name}):
//     method     federated_averaging (default), weighted_average, median or trimmed_mean
//     weights    weighted_average only: {"node-id": w, ...} with one weight for each node of
//                `nodes` and no other, or [w, ...] in the order of `nodes` (which must then be
//                listed); numbers >= 0, not all zero. Without `nodes`, an object's nodes
//                are checked when nodes are chosen (SelectCollaborativeNodes).
//     trim       trimmed_mean only: number in [0, 0.5), default 0.1
//     differential_privacy  {"epsilon": number > 0, "clip": [lo, hi] with lo < hi}, any method
//   task         "classification" or "regression"
//   min_nodes    integer >= 1, and <= the number of nodes when nodes are listed
//   timeout      number of seconds > 0
//   reputation_min  number in [0, 1]           } only without `nodes`: they say how the
//   labels       {"name": "value", ...}         } orchestrator chooses nodes
//   max_nodes    integer >= 1, and >= min_nodes }
// Errors are INVALID_ARGUMENT with a message that starts with the JSON path of the
// offending field (as the config spells it), e.g. "$.aggregation.method: unknown method
// 'mean' (expected federated_averaging, weighted_average, median or trimmed_mean)",
// "$.aggregation.weights: 2 weights for 3 nodes", "$.aggregation.weights.ghost: node 'ghost'
// is not in $.nodes", "$.aggregation.weights: no weight for node 'b'", "$.nodes[1]: expected
// a string, got number", "$.modelid: unknown key (did you mean 'model_id'?)",
// "$: expected an object, got array". Malformed JSON: "invalid JSON at byte N: ...";
// a key given twice in one object: "$.nodes: duplicate key". Never throws.
Result<CollaborativeConfig> ParseCollaborativeConfig(std::string_view json_text);

// Canonical form (snake_case keys, defaults filled), parseable by ParseCollaborativeConfig.
// task, min_nodes, timeout, reputation_min, labels and max_nodes are left out when unset;
// weights when empty, trim unless the method is trimmed_mean, differential_privacy when unset.
nlohmann::json CollaborativeConfigToJson(const CollaborativeConfig& config);

}  // namespace dim::core
