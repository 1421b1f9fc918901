#include "core/job/comparative_config.h"

#include <cmath>
#include <optional>
#include <utility>

#include "core/job/config_reader.h"

namespace dim::core {
namespace {

using json = nlohmann::json;

const KeyRules& TopLevelKeys() {
  static const KeyRules kRules{
      {"model_ids", "node_id", "dataset", "columns", "consensus", "timeout"},
      {},
  };
  return kRules;
}

const KeyRules& ConsensusKeys() {
  static const KeyRules kRules{{"method", "weights", "min_agreement"}, {}};
  return kRules;
}

Result<ConsensusMethod> ReadMethod(const json& value, const std::string& path) {
  DIM_ASSIGN_OR_RETURN(std::string name,
                       ReadChoice(value, path, "consensus method", ConsensusMethodNames()));
  return *ParseConsensusMethod(name);
}

Result<std::vector<double>> ReadWeights(const json& value, const std::string& path, size_t models) {
  if (!value.is_array()) return TypeError(path, "an array", value);
  std::vector<double> weights;
  bool any = false;
  for (size_t i = 0; i < value.size(); ++i) {
    const json& w = value[i];
    const std::string at = IndexPath(path, i);
    if (!w.is_number()) return TypeError(at, "a number", w);
    const double v = w.get<double>();
    if (!std::isfinite(v) || v < 0) {
      return Status::InvalidArgument(at + ": must be >= 0, got " + DescribeValue(w));
    }
    any = any || v > 0;
    weights.push_back(v);
  }
  if (weights.size() != models) {
    return Status::InvalidArgument(path + ": " + std::to_string(weights.size()) + " weights for " +
                                   std::to_string(models) +
                                   " models (one per model, in the order of model_ids)");
  }
  if (!any) return Status::InvalidArgument(path + ": must not all be zero");
  return weights;
}

Result<double> ReadMinAgreement(const json& value, const std::string& path) {
  if (!value.is_number()) return TypeError(path, "a number", value);
  const double v = value.get<double>();
  if (!(v >= 0 && v <= 1)) {
    return Status::InvalidArgument(path + ": must be between 0 and 1, got " + DescribeValue(value));
  }
  return v;
}

// `consensus` is an object {"method": ..., ...} or, for short, the method's name.
Result<ConsensusSettings> ReadConsensus(const json& value, const std::string& path, size_t models) {
  ConsensusSettings settings;
  if (value.is_string()) {
    DIM_ASSIGN_OR_RETURN(settings.method, ReadMethod(value, path));
  } else if (!value.is_object()) {
    return TypeError(path, "an object or a string", value);
  }
  std::optional<ConfigObject> object;
  if (value.is_object()) {
    DIM_ASSIGN_OR_RETURN(object, ConfigObject::Read(value, path, ConsensusKeys()));
    if (const json* method = object->Find("method")) {
      DIM_ASSIGN_OR_RETURN(settings.method, ReadMethod(*method, object->PathOf("method")));
    }
  }
  const std::string method_name(ConsensusMethodName(settings.method));
  const json* weights = object ? object->Find("weights") : nullptr;
  if (settings.method == ConsensusMethod::kWeightedVote) {
    if (weights == nullptr) {
      return Status::InvalidArgument(ChildPath(path, "weights") +
                                     ": missing required key (weighted_vote needs one weight "
                                     "per model)");
    }
    DIM_ASSIGN_OR_RETURN(settings.weights,
                         ReadWeights(*weights, object->PathOf("weights"), models));
  } else if (weights != nullptr) {
    return Status::InvalidArgument(object->PathOf("weights") +
                                   ": only the weighted_vote method takes weights (method is " +
                                   method_name + ")");
  }
  if (const json* min = object ? object->Find("min_agreement") : nullptr) {
    if (settings.method != ConsensusMethod::kExpertReview) {
      return Status::InvalidArgument(object->PathOf("min_agreement") +
                                     ": only the expert_review method takes min_agreement "
                                     "(method is " +
                                     method_name + ")");
    }
    DIM_ASSIGN_OR_RETURN(settings.min_agreement,
                         ReadMinAgreement(*min, object->PathOf("min_agreement")));
  }
  return settings;
}

}  // namespace

Result<ComparativeConfig> ParseComparativeConfig(std::string_view json_text) {
  DIM_ASSIGN_OR_RETURN(json root, ParseJsonText(json_text));
  DIM_ASSIGN_OR_RETURN(ConfigObject object, ConfigObject::Read(root, "$", TopLevelKeys()));
  ComparativeConfig config;

  DIM_ASSIGN_OR_RETURN(const json* model_ids, object.Require("model_ids"));
  const std::string models_path = object.PathOf("model_ids");
  DIM_ASSIGN_OR_RETURN(config.model_ids,
                       ReadUniqueStrings(*model_ids, models_path, kMaxModelsPerJob));
  if (config.model_ids.size() < 2) {
    return Status::InvalidArgument(models_path + ": a comparison needs at least 2 models, got " +
                                   std::to_string(config.model_ids.size()));
  }
  if (const json* node_id = object.Find("node_id")) {
    DIM_ASSIGN_OR_RETURN(config.node_id, ReadNonEmptyString(*node_id, object.PathOf("node_id")));
  }
  if (const json* dataset = object.Find("dataset")) {
    DIM_ASSIGN_OR_RETURN(config.dataset, ReadNonEmptyString(*dataset, object.PathOf("dataset")));
  }
  if (const json* columns = object.Find("columns")) {
    DIM_ASSIGN_OR_RETURN(config.columns,
                         ReadUniqueStrings(*columns, object.PathOf("columns"), kMaxColumns));
  }
  if (const json* consensus = object.Find("consensus")) {
    DIM_ASSIGN_OR_RETURN(config.consensus, ReadConsensus(*consensus, object.PathOf("consensus"),
                                                         config.model_ids.size()));
  }
  if (const json* timeout = object.Find("timeout")) {
    DIM_ASSIGN_OR_RETURN(config.timeout_seconds,
                         ReadPositiveNumber(*timeout, object.PathOf("timeout")));
  }
  return config;
}

json ComparativeConfigToJson(const ComparativeConfig& config) {
  json consensus = {{"method", ConsensusMethodName(config.consensus.method)}};
  if (config.consensus.method == ConsensusMethod::kWeightedVote) {
    consensus["weights"] = config.consensus.weights;
  }
  if (config.consensus.method == ConsensusMethod::kExpertReview) {
    consensus["min_agreement"] = config.consensus.min_agreement;
  }
  json out = {
      {"model_ids", config.model_ids},
      {"dataset", config.dataset},
      {"columns", config.columns},
      {"consensus", std::move(consensus)},
  };
  // Left out when unset: the parser requires them to be set when present.
  if (!config.node_id.empty()) out["node_id"] = config.node_id;
  if (config.timeout_seconds > 0) out["timeout"] = config.timeout_seconds;
  return out;
}

}  // namespace dim::core
