#include "core/job/collaborative_config.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "core/job/config_reader.h"

namespace dim::core {
namespace {

using json = nlohmann::json;

constexpr std::string_view kFederatedAveraging = "federated_averaging";
// SPEC methods that later versions implement.
constexpr std::string_view kUnavailableMethods[] = {"weighted_average", "median", "trimmed_mean"};

const KeyRules& TopLevelKeys() {
  static const KeyRules kRules{
      {"model_id", "nodes", "dataset", "columns", "aggregation", "task", "min_nodes", "timeout"},
      {"reputation_min", "labels"},
  };
  return kRules;
}

const KeyRules& AggregationKeys() {
  // weights, trim and differential_privacy belong to methods this version lacks.
  static const KeyRules kRules{{"method"}, {"weights", "trim", "differential_privacy"}};
  return kRules;
}

Result<std::string> ReadMethod(const json& value, const std::string& path) {
  DIM_ASSIGN_OR_RETURN(std::string method, ReadString(value, path));
  if (method == kFederatedAveraging) return method;
  const std::string available = " (available: " + std::string(kFederatedAveraging) + ")";
  if (std::find(std::begin(kUnavailableMethods), std::end(kUnavailableMethods), method) !=
      std::end(kUnavailableMethods)) {
    return Status::InvalidArgument(path + ": method '" + method +
                                   "' is not available in this version" + available);
  }
  return Status::InvalidArgument(path + ": unknown method '" + method + "'" + available);
}

// `aggregation` is an object {"method": ...} or, for short, the method's name.
Result<std::string> ReadAggregation(const json& value, const std::string& path) {
  if (value.is_string()) return ReadMethod(value, path);
  if (!value.is_object()) return TypeError(path, "an object or a string", value);
  DIM_ASSIGN_OR_RETURN(ConfigObject aggregation,
                       ConfigObject::Read(value, path, AggregationKeys()));
  if (const json* method = aggregation.Find("method")) {
    return ReadMethod(*method, aggregation.PathOf("method"));
  }
  return std::string(kFederatedAveraging);
}

}  // namespace

Result<CollaborativeConfig> ParseCollaborativeConfig(std::string_view json_text) {
  DIM_ASSIGN_OR_RETURN(json root, ParseJsonText(json_text));
  DIM_ASSIGN_OR_RETURN(ConfigObject object, ConfigObject::Read(root, "$", TopLevelKeys()));
  CollaborativeConfig config;

  DIM_ASSIGN_OR_RETURN(const json* model_id, object.Require("model_id"));
  DIM_ASSIGN_OR_RETURN(config.model_id, ReadNonEmptyString(*model_id, object.PathOf("model_id")));

  if (const json* nodes = object.Find("nodes")) {
    DIM_ASSIGN_OR_RETURN(config.nodes, ReadUniqueStrings(*nodes, object.PathOf("nodes")));
  }
  if (const json* dataset = object.Find("dataset")) {
    DIM_ASSIGN_OR_RETURN(config.dataset, ReadNonEmptyString(*dataset, object.PathOf("dataset")));
  }
  if (const json* columns = object.Find("columns")) {
    DIM_ASSIGN_OR_RETURN(config.columns, ReadUniqueStrings(*columns, object.PathOf("columns")));
  }
  if (const json* aggregation = object.Find("aggregation")) {
    DIM_ASSIGN_OR_RETURN(config.aggregation_method,
                         ReadAggregation(*aggregation, object.PathOf("aggregation")));
  }
  if (const json* task = object.Find("task")) {
    DIM_ASSIGN_OR_RETURN(config.task, ReadChoice(*task, object.PathOf("task"), "task",
                                                 {"classification", "regression"}));
  }
  if (const json* min_nodes = object.Find("min_nodes")) {
    const std::string path = object.PathOf("min_nodes");
    DIM_ASSIGN_OR_RETURN(int64_t n,
                         ReadInteger(*min_nodes, path, 1, std::numeric_limits<int>::max()));
    if (!config.nodes.empty() && n > static_cast<int64_t>(config.nodes.size())) {
      return Status::InvalidArgument(path + ": must be <= the number of nodes (" +
                                     std::to_string(config.nodes.size()) + "), got " +
                                     std::to_string(n));
    }
    config.min_nodes = static_cast<int>(n);
  }
  if (const json* timeout = object.Find("timeout")) {
    DIM_ASSIGN_OR_RETURN(config.timeout_seconds,
                         ReadPositiveNumber(*timeout, object.PathOf("timeout")));
  }
  return config;
}

json CollaborativeConfigToJson(const CollaborativeConfig& config) {
  json out = {
      {"model_id", config.model_id},
      {"nodes", config.nodes},
      {"dataset", config.dataset},
      {"columns", config.columns},
      {"aggregation", {{"method", config.aggregation_method}}},
  };
  // Left out when unset: the parser requires them to be set when present.
  if (!config.task.empty()) out["task"] = config.task;
  if (config.min_nodes > 0) out["min_nodes"] = config.min_nodes;
  if (config.timeout_seconds > 0) out["timeout"] = config.timeout_seconds;
  return out;
}

}  // namespace dim::core
