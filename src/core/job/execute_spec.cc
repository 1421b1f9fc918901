#include "core/job/execute_spec.h"

#include <string>

#include "core/job/config_reader.h"
#include "core/text.h"

namespace dim::core {

Result<ExecuteSpec> ParseExecuteSpec(std::string_view spec_json) {
  DIM_ASSIGN_OR_RETURN(const nlohmann::json json, ParseJsonText(spec_json));
  static const KeyRules kRules{.known = {"pattern", "config", "priority", "user_id"},
                               .unavailable = {}};
  DIM_ASSIGN_OR_RETURN(const ConfigObject spec, ConfigObject::Read(json, "$", kRules));
  ExecuteSpec out;

  DIM_ASSIGN_OR_RETURN(const nlohmann::json* pattern, spec.Require("pattern"));
  DIM_ASSIGN_OR_RETURN(const std::string pattern_name,
                       ReadChoice(*pattern, spec.PathOf("pattern"), "pattern",
                                  {"collaborative", "comparative", "chained"}));
  out.pattern = *ParsePattern(pattern_name);

  DIM_ASSIGN_OR_RETURN(const nlohmann::json* config, spec.Require("config"));
  if (config->is_object()) {
    out.config_json = DumpJson(*config);
  } else if (config->is_string()) {
    out.config_json = config->get<std::string>();
  } else {
    return TypeError(spec.PathOf("config"), "an object or a string of JSON", *config);
  }

  if (const nlohmann::json* priority = spec.Find("priority")) {
    DIM_ASSIGN_OR_RETURN(const std::string name,
                         ReadChoice(*priority, spec.PathOf("priority"), "priority",
                                    {"low", "normal", "high"}));
    out.priority = *ParsePriority(name);
  }
  if (const nlohmann::json* user = spec.Find("user_id")) {
    DIM_ASSIGN_OR_RETURN(out.user_id, ReadString(*user, spec.PathOf("user_id")));
  }
  return out;
}

Status LocateConfigError(const Status& status) {
  const std::string& message = status.message();
  if (status.code() != StatusCode::kInvalidArgument && status.code() != StatusCode::kNotFound) {
    return status;
  }
  // Config paths start with "$." , "$[" or "$:" (the config's root itself).
  if (message.size() < 2 || message[0] != '$' ||
      (message[1] != '.' && message[1] != '[' && message[1] != ':')) {
    return status;
  }
  return Status(status.code(), "$.config" + message.substr(1));
}

}  // namespace dim::core
