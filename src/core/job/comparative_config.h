// The comparative pattern's config_json: parsing and validation.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/stats/consensus.h"
#include "core/status.h"

namespace dim::core {

struct ComparativeConfig {
  // At least 2, unique; all run on the same node, over the same rows.
  std::vector<std::string> model_ids;
  // The node that holds the data; empty means the orchestrator chooses one (see
  // SelectComparativeNode).
  std::string node_id;
  std::string dataset = "default";
  // Feature columns fed to every model, in order; empty means every column of the dataset.
  std::vector<std::string> columns;
  ConsensusSettings consensus;
  // Time limit of the node task in seconds; 0 means none.
  double timeout_seconds = 0;
};

// Parses config_json. Keys are accepted in snake_case and camelCase alike (model_ids,
// modelIds); giving both spellings of one key is an error. Keys:
//   model_ids   array of at least 2 non-empty, unique strings, required
//   node_id     non-empty string
//   dataset     non-empty string, default "default"
//   columns     array of non-empty, unique strings
//   consensus   {"method": M, "weights": [...], "min_agreement": X}, or M as a string;
//               M one of majority_vote (the default), weighted_vote, average, unanimous,
//               expert_review (see ConsensusMethod).
//               weights: required by weighted_vote and only allowed there; one number >= 0
//               per model, in the order of model_ids, not all zero.
//               min_agreement: only allowed with expert_review; a number in [0, 1],
//               default 1.0 (every row on which the models are not unanimous is flagged).
//   timeout     number of seconds > 0
// Errors are INVALID_ARGUMENT with a message that starts with the JSON path of the
// offending field (as the config spells it), e.g. "$.model_ids: a comparison needs at
// least 2 models, got 1", "$.model_ids[1]: duplicate 'a' (also at [0])",
// "$.consensus.method: unknown consensus method 'vote' (expected majority_vote, ...)",
// "$.consensus.weights: 3 weights for 2 models (...)", "$.consensus.weights[1]: must be
// >= 0, got -1", "$.consensus.min_agreement: must be between 0 and 1, got 1.5",
// "$.modelIds: missing required key" is spelled "$.model_ids: missing required key".
// Malformed JSON and duplicate keys as in ParseJsonText. Never throws.
Result<ComparativeConfig> ParseComparativeConfig(std::string_view json_text);

// Canonical form (snake_case keys, defaults filled), parseable by ParseComparativeConfig.
// node_id and timeout are left out when unset; weights and min_agreement appear only for
// the methods that take them.
nlohmann::json ComparativeConfigToJson(const ComparativeConfig& config);

}  // namespace dim::core
