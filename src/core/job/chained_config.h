// The chained pattern's config_json: a pipeline of steps, parsing and validation.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/client_data.h"
#include "core/status.h"

namespace dim::core {

// Where a step's input rows come from.
struct StepSource {
  enum class Kind {
    kDataset,     // "dataset:<name>": a dataset on the node that runs the step
    kClientData,  // "client_data": the rows of the job's input_data
    kStepOutput,  // "step_<k>_output": the outputs of an earlier step k
  };
  Kind kind = Kind::kDataset;
  std::string dataset;  // kDataset
  int step = 0;         // kStepOutput: 1-based, smaller than the reading step's number
};

// "dataset:x", "client_data", "step_2_output".
std::string StepSourceText(const StepSource& source);

struct ChainedStep {
  int step = 0;          // 1..N, in order
  std::string name;      // defaults to "step_<k>"
  std::string model_id;
  std::string node_id;   // where the step runs
  StepSource source;
  // Named input columns, in order; only for dataset and client_data sources (client_data
  // only when input_data names its columns). Empty means every column.
  std::vector<std::string> columns;
  double timeout_seconds = 0;  // 0: none (the job's timeout still applies)
};

enum class OnFailure { kFailFast, kRetry, kRollbackAndRetry };

// "fail_fast", "retry", "rollback_and_retry".
std::string_view OnFailureName(OnFailure on_failure);

struct ErrorHandling {
  OnFailure on_failure = OnFailure::kFailFast;
  // Retries after a step's first attempt (retry and rollback_and_retry only).
  int max_retries = 0;
  // Step number -> nodes to move the step to when it fails, in order (retry and
  // rollback_and_retry only). A step's attempt i (1-based) runs on the i-th node of
  // [node_id, fallbacks...], cycling.
  std::map<int, std::vector<std::string>> fallback_nodes;
};

struct ChainedConfig {
  std::vector<ChainedStep> steps;
  ErrorHandling error_handling;
  std::optional<ClientData> input_data;
  double timeout_seconds = 0;  // the whole job; 0: none
};

// Parses config_json. Keys are accepted in snake_case and camelCase alike; giving both
// spellings of one key is an error; unknown keys are errors naming the key. Keys:
//   pipeline        array of at least 1 step objects, required. Each step:
//     step          integer, required; steps are numbered 1..N in array order
//     name          non-empty string, default "step_<k>"; names are unique
//     model_id      non-empty string, required
//     node_id       non-empty string, required
//     input_source  string, required: "dataset:<name>" (name non-empty), "client_data"
//                   (needs input_data), or "step_<k>_output" with 1 <= k < step
//     columns       array of non-empty, unique strings; only with a dataset source, or
//                   client_data when input_data has columns (each must be one of them)
//     timeout       number of seconds > 0
//   error_handling  {"on_failure": fail_fast (default) | retry | rollback_and_retry,
//                    "max_retries": integer 0..10 (default 2 with retry and
//                                   rollback_and_retry; not allowed with fail_fast),
//                    "fallback_nodes": {"<step number or step name>": [node ids]}
//                                   (not allowed with fail_fast; each node id non-empty,
//                                   unique, and not the step's own node_id)}
//   input_data      the client's rows: an array of rows (arrays of numbers, all of one
//                   width >= 1), or {"columns": [names], "rows": [[...]...]} with one
//                   name per value of a row; at least 1 row, at most kMaxClientValues
//                   numbers; required when a step reads client_data, an error otherwise
//   timeout         number of seconds > 0
// Errors are INVALID_ARGUMENT with a message that starts with the JSON path of the
// offending field (as the config spells it), e.g.
//   "$.pipeline: a pipeline needs at least 1 step"
//   "$.pipeline[1].step: steps must be numbered 1..N in order: expected 2, got 3"
//   "$.pipeline[0].input_source: step 1 reads step 2's output, which is not an earlier step"
//   "$.pipeline[1].input_source: expected dataset:<name>, client_data or step_<k>_output, got 'x'"
//   "$.pipeline[0].input_source: client_data needs the job's input_data"
//   "$.pipeline[1].columns: only a dataset or client_data input has named columns"
//   "$.error_handling.on_failure: unknown on_failure 'x' (expected fail_fast, retry or
//    rollback_and_retry)"
//   "$.error_handling.fallback_nodes['9']: no step 9 (steps are 1..2)"
//   "$.input_data[2]: expected 3 numbers like row 0, got 2"
// Rows read from a dataset never leave its node, so a step that reads the output of a step
// whose rows come (directly or through earlier steps) from a dataset must run on that
// step's node: "$.pipeline[1].node_id: step 2 reads step 1's output, whose rows come from
// dataset 'x' on node 'a' and never leave it: run step 2 on node 'a'".
// Malformed JSON and duplicate keys as in ParseJsonText. Never throws.
// `input_rows`, when given, are the job's rows sent beside the config (as a binary tensor):
// they stand for input_data, and a config that also has input_data is INVALID_ARGUMENT
// "input_rows: the rows are also in the config's input_data; send them once".
Result<ChainedConfig> ParseChainedConfig(std::string_view json_text,
                                         const ClientData* input_rows = nullptr);

// Canonical form (snake_case keys, defaults filled; fallback_nodes keyed by step number),
// parseable by ParseChainedConfig. input_data keeps its columns when it had them; timeout
// keys are left out when unset; max_retries and fallback_nodes only with retry modes.
nlohmann::json ChainedConfigToJson(const ChainedConfig& config);

}  // namespace dim::core
