#include "core/job/collaborative_config.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "core/job/config_reader.h"

namespace dim::core {
namespace {

using json = nlohmann::json;

constexpr std::string_view kFederatedAveraging = "federated_averaging";
constexpr std::string_view kWeightedAverage = "weighted_average";
constexpr std::string_view kTrimmedMean = "trimmed_mean";

const KeyRules& TopLevelKeys() {
  static const KeyRules kRules{
      {"model_id", "nodes", "dataset", "columns", "aggregation", "task", "min_nodes", "timeout",
       "reputation_min", "labels", "max_nodes"},
      {},
  };
  return kRules;
}

const KeyRules& AggregationKeys() {
  static const KeyRules kRules{{"method", "weights", "trim", "differential_privacy"}, {}};
  return kRules;
}

const KeyRules& PrivacyKeys() {
  static const KeyRules kRules{{"epsilon", "clip"}, {}};
  return kRules;
}

Result<std::string> ReadMethod(const json& value, const std::string& path) {
  return ReadChoice(value, path, "method",
                    {kFederatedAveraging, kWeightedAverage, "median", kTrimmedMean});
}

Result<double> ReadWeight(const json& value, const std::string& path) {
  if (!value.is_number()) return TypeError(path, "a number", value);
  const double w = value.get<double>();
  if (!(w >= 0))
    return Status::InvalidArgument(path + ": must be >= 0, got " + DescribeValue(value));
  return w;
}

// {"node": w, ...} or [w, ...] in the order of `nodes`; see the header.
Result<std::map<std::string, double>> ReadWeights(const json& value, const std::string& path,
                                                  const std::vector<std::string>& nodes) {
  std::map<std::string, double> weights;
  if (value.is_array()) {
    if (nodes.empty()) {
      return Status::InvalidArgument(path +
                                     ": an array of weights needs \"nodes\" to say whose they "
                                     "are (or give them by node id: {\"node-id\": weight})");
    }
    if (value.size() != nodes.size()) {
      return Status::InvalidArgument(path + ": " + std::to_string(value.size()) + " weights for " +
                                     std::to_string(nodes.size()) + " nodes");
    }
    for (size_t i = 0; i < value.size(); ++i) {
      DIM_ASSIGN_OR_RETURN(weights[nodes[i]], ReadWeight(value[i], IndexPath(path, i)));
    }
  } else if (value.is_object()) {
    for (const auto& [node, w] : value.items()) {
      const std::string at = ChildPath(path, node);
      if (!nodes.empty() && std::find(nodes.begin(), nodes.end(), node) == nodes.end()) {
        return Status::InvalidArgument(at + ": node '" + node + "' is not in $.nodes");
      }
      DIM_ASSIGN_OR_RETURN(weights[node], ReadWeight(w, at));
    }
    for (const auto& node : nodes) {
      if (!weights.count(node)) {
        return Status::InvalidArgument(path + ": no weight for node '" + node + "'");
      }
    }
    if (weights.empty()) return Status::InvalidArgument(path + ": must not be empty");
  } else {
    return TypeError(path, "an object or an array", value);
  }
  if (std::all_of(weights.begin(), weights.end(), [](const auto& w) { return w.second == 0; })) {
    return Status::InvalidArgument(path + ": must not all be zero");
  }
  return weights;
}

Result<DifferentialPrivacy> ReadPrivacy(const json& value, const std::string& path) {
  DIM_ASSIGN_OR_RETURN(ConfigObject object, ConfigObject::Read(value, path, PrivacyKeys()));
  DifferentialPrivacy dp;
  DIM_ASSIGN_OR_RETURN(const json* epsilon, object.Require("epsilon"));
  DIM_ASSIGN_OR_RETURN(dp.epsilon, ReadPositiveNumber(*epsilon, object.PathOf("epsilon")));
  DIM_ASSIGN_OR_RETURN(const json* clip, object.Require("clip"));
  const std::string clip_path = object.PathOf("clip");
  if (!clip->is_array() || clip->size() != 2 || !(*clip)[0].is_number() ||
      !(*clip)[1].is_number()) {
    return Status::InvalidArgument(clip_path + ": expected [lo, hi], two numbers, got " +
                                   DescribeValue(*clip));
  }
  dp.clip_lo = (*clip)[0].get<double>();
  dp.clip_hi = (*clip)[1].get<double>();
  if (!(dp.clip_lo < dp.clip_hi)) {
    return Status::InvalidArgument(clip_path + ": lo must be < hi, got " + DescribeValue(*clip));
  }
  // What the nodes check again: refused here, at submit, naming the key.
  if (Status s = CheckDifferentialPrivacy(dp); !s.ok()) {
    return Status::InvalidArgument(path + "." + s.message());
  }
  return dp;
}

// `aggregation` is an object {"method": ...} or, for short, the method's name.
Status ReadAggregation(const json& value, const std::string& path, CollaborativeConfig& config) {
  if (value.is_string()) {
    DIM_ASSIGN_OR_RETURN(config.aggregation_method, ReadMethod(value, path));
    return Status::Ok();
  }
  if (!value.is_object()) return TypeError(path, "an object or a string", value);
  DIM_ASSIGN_OR_RETURN(ConfigObject aggregation,
                       ConfigObject::Read(value, path, AggregationKeys()));
  if (const json* method = aggregation.Find("method")) {
    DIM_ASSIGN_OR_RETURN(config.aggregation_method,
                         ReadMethod(*method, aggregation.PathOf("method")));
  }
  const std::string& method = config.aggregation_method;
  if (const json* weights = aggregation.Find("weights")) {
    const std::string at = aggregation.PathOf("weights");
    if (method != kWeightedAverage) {
      return Status::InvalidArgument(at + ": only for method weighted_average, not " + method);
    }
    DIM_ASSIGN_OR_RETURN(config.weights, ReadWeights(*weights, at, config.nodes));
  }
  if (const json* trim = aggregation.Find("trim")) {
    const std::string at = aggregation.PathOf("trim");
    if (method != kTrimmedMean) {
      return Status::InvalidArgument(at + ": only for method trimmed_mean, not " + method);
    }
    if (!trim->is_number()) return TypeError(at, "a number", *trim);
    config.trim = trim->get<double>();
    if (!(config.trim >= 0 && config.trim < 0.5)) {
      return Status::InvalidArgument(at + ": must be in [0, 0.5), got " + DescribeValue(*trim));
    }
  }
  if (const json* dp = aggregation.Find("differential_privacy")) {
    DIM_ASSIGN_OR_RETURN(config.differential_privacy,
                         ReadPrivacy(*dp, aggregation.PathOf("differential_privacy")));
  }
  return Status::Ok();
}

// reputation_min, labels and max_nodes: how the orchestrator chooses nodes when the config
// lists none.
Status ReadSelection(const ConfigObject& object, CollaborativeConfig& config) {
  for (const char* key : {"reputation_min", "labels", "max_nodes"}) {
    if (object.Find(key) != nullptr && !config.nodes.empty()) {
      return Status::InvalidArgument(object.PathOf(key) +
                                     ": only when the orchestrator chooses the nodes; this "
                                     "config lists them in $.nodes");
    }
  }
  if (const json* min = object.Find("reputation_min")) {
    const std::string path = object.PathOf("reputation_min");
    if (!min->is_number()) return TypeError(path, "a number", *min);
    config.reputation_min = min->get<double>();
    if (!(config.reputation_min >= 0 && config.reputation_min <= 1)) {
      return Status::InvalidArgument(path + ": must be in [0, 1], got " + DescribeValue(*min));
    }
  }
  if (const json* labels = object.Find("labels")) {
    const std::string path = object.PathOf("labels");
    if (!labels->is_object()) return TypeError(path, "an object of strings", *labels);
    for (const auto& [key, value] : labels->items()) {
      const std::string at = ChildPath(path, key);
      if (key.empty()) return Status::InvalidArgument(path + ": a label name must not be empty");
      DIM_ASSIGN_OR_RETURN(std::string text, ReadString(value, at));
      config.labels[key] = std::move(text);
    }
  }
  if (const json* max_nodes = object.Find("max_nodes")) {
    const std::string path = object.PathOf("max_nodes");
    DIM_ASSIGN_OR_RETURN(int64_t n,
                         ReadInteger(*max_nodes, path, 1, std::numeric_limits<int>::max()));
    if (config.min_nodes > n) {
      return Status::InvalidArgument(path + ": must be >= min_nodes (" +
                                     std::to_string(config.min_nodes) + "), got " +
                                     std::to_string(n));
    }
    config.max_nodes = static_cast<int>(n);
  }
  return Status::Ok();
}

}  // namespace

Result<CollaborativeConfig> ParseCollaborativeConfig(std::string_view json_text) {
  DIM_ASSIGN_OR_RETURN(json root, ParseJsonText(json_text));
  DIM_ASSIGN_OR_RETURN(ConfigObject object, ConfigObject::Read(root, "$", TopLevelKeys()));
  CollaborativeConfig config;

  DIM_ASSIGN_OR_RETURN(const json* model_id, object.Require("model_id"));
  DIM_ASSIGN_OR_RETURN(config.model_id, ReadNonEmptyString(*model_id, object.PathOf("model_id")));

  if (const json* nodes = object.Find("nodes")) {
    const std::string path = object.PathOf("nodes");
    DIM_ASSIGN_OR_RETURN(config.nodes, ReadUniqueStrings(*nodes, path, kMaxNodesPerJob));
    if (config.nodes.empty()) {
      return Status::InvalidArgument(
          path + ": must not be empty (leave it out to let the orchestrator choose the nodes)");
    }
  }
  if (const json* dataset = object.Find("dataset")) {
    DIM_ASSIGN_OR_RETURN(config.dataset, ReadNonEmptyString(*dataset, object.PathOf("dataset")));
  }
  if (const json* columns = object.Find("columns")) {
    DIM_ASSIGN_OR_RETURN(config.columns,
                         ReadUniqueStrings(*columns, object.PathOf("columns"), kMaxColumns));
  }
  if (const json* aggregation = object.Find("aggregation")) {
    DIM_RETURN_IF_ERROR(ReadAggregation(*aggregation, object.PathOf("aggregation"), config));
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
  DIM_RETURN_IF_ERROR(ReadSelection(object, config));
  return config;
}

json CollaborativeConfigToJson(const CollaborativeConfig& config) {
  json out = {
      {"model_id", config.model_id},
      {"dataset", config.dataset},
      {"columns", config.columns},
      {"aggregation", {{"method", config.aggregation_method}}},
  };
  if (!config.weights.empty()) out["aggregation"]["weights"] = config.weights;
  if (config.aggregation_method == kTrimmedMean) out["aggregation"]["trim"] = config.trim;
  if (config.differential_privacy) {
    const DifferentialPrivacy& dp = *config.differential_privacy;
    out["aggregation"]["differential_privacy"] = {{"epsilon", dp.epsilon},
                                                  {"clip", {dp.clip_lo, dp.clip_hi}}};
  }
  // Left out when unset: the parser requires them to be set when present.
  if (!config.nodes.empty()) out["nodes"] = config.nodes;
  if (!config.task.empty()) out["task"] = config.task;
  if (config.min_nodes > 0) out["min_nodes"] = config.min_nodes;
  if (config.timeout_seconds > 0) out["timeout"] = config.timeout_seconds;
  if (config.reputation_min > 0) out["reputation_min"] = config.reputation_min;
  if (!config.labels.empty()) out["labels"] = config.labels;
  if (config.max_nodes > 0) out["max_nodes"] = config.max_nodes;
  return out;
}

}  // namespace dim::core
