// The PatternEngine service's spec_json: a whole job (pattern, config, priority, user) in
// one JSON document, run synchronously by Execute.
#pragma once

#include <string>
#include <string_view>

#include "core/job_types.h"
#include "core/status.h"

namespace dim::core {

struct ExecuteSpec {
  Pattern pattern = Pattern::kUnspecified;
  // The pattern's config_json, as text (see SPEC.md section 2 for its keys).
  std::string config_json;
  Priority priority = Priority::kNormal;
  std::string user_id;
};

// Parses spec_json. Keys (snake_case or camelCase, like every config):
//   pattern   "collaborative" | "comparative" | "chained", required
//   config    the pattern's config: an object, or a string holding its JSON text; required
//   priority  "low" | "normal" | "high", default "normal"
//   user_id   string, default ""
// Errors are INVALID_ARGUMENT starting with the JSON path ("$.pattern: unknown pattern
// 'x' (expected collaborative, comparative or chained)", "$.config: missing required key").
// The config itself is checked when the job is submitted; see LocateConfigError.
Result<ExecuteSpec> ParseExecuteSpec(std::string_view spec_json);

// A config error reported by the pattern ("$.nodes[1]: ...", paths from the config's root)
// restated from the spec's root ("$.config.nodes[1]: ..."). Other statuses are returned as
// they are.
Status LocateConfigError(const Status& status);

}  // namespace dim::core
