// The collaborative pattern's config_json: parsing and validation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace dim::core {

struct CollaborativeConfig {
  std::string model_id;
  // Explicit node ids; empty means the orchestrator chooses nodes that hold `dataset`.
  std::vector<std::string> nodes;
  std::string dataset = "default";
  // Feature columns fed to the model, in order; empty means every column of the dataset.
  std::vector<std::string> columns;
  // "federated_averaging" is the method this version implements.
  std::string aggregation_method = "federated_averaging";
  // "", "classification" or "regression"; "" decides by output width (> 1: classification).
  std::string task;
  // Quorum: the job fails when fewer nodes succeed. 0 means every listed node.
  int min_nodes = 0;
  // Per-node time limit in seconds; 0 means none.
  double timeout_seconds = 0;
};

// Parses config_json. Keys are accepted in snake_case and camelCase alike (model_id,
// modelId); giving both spellings of one key is an error. Keys:
//   model_id     string, required, non-empty
//   nodes        array of non-empty, unique strings
//   dataset      non-empty string, default "default"
//   columns      array of non-empty, unique strings
//   aggregation  {"method": "federated_averaging"}, or the method's name as a string; the
//                SPEC's other methods (weighted_average, median, trimmed_mean) and their
//                keys (weights, trim, differential_privacy) are not available in this version
//   task         "classification" or "regression"
//   min_nodes    integer >= 1, and <= the number of nodes when nodes are listed
//   timeout      number of seconds > 0
// reputation_min and labels (SPEC) are rejected as not available in this version.
// Errors are INVALID_ARGUMENT with a message that starts with the JSON path of the
// offending field (as the config spells it), e.g. "$.aggregation.method: method 'median' is
// not available in this version (available: federated_averaging)", "$.nodes[1]: expected
// a string, got number", "$.modelid: unknown key (did you mean 'model_id'?)",
// "$: expected an object, got array". Malformed JSON: "invalid JSON at byte N: ...";
// a key given twice in one object: "$.nodes: duplicate key". Never throws.
Result<CollaborativeConfig> ParseCollaborativeConfig(std::string_view json_text);

// Canonical form (snake_case keys, defaults filled), parseable by ParseCollaborativeConfig.
// task, min_nodes and timeout are left out when unset ("", 0, 0).
nlohmann::json CollaborativeConfigToJson(const CollaborativeConfig& config);

}  // namespace dim::core
