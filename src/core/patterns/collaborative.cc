#include "core/patterns/collaborative.h"

#include <algorithm>

#include "core/job/config_reader.h"
#include "core/name_list.h"
#include "core/stats/node_mean_aggregation.h"

namespace dim::core {
namespace {

// The aggregate of the summaries of the nodes that succeeded, by the config's method; fills
// `extra` with what the method used (weights, trim). weighted_average without weights in
// the config weighs each node by its reputation (when the job started).
Result<Summary> Aggregate(const CollaborativeConfig& config, const std::vector<Summary>& parts,
                          const std::vector<std::string>& ids,
                          const std::map<std::string, double>& reputations,
                          nlohmann::json& extra) {
  const std::string& method = config.aggregation_method;
  if (method == "federated_averaging") return PoolSummaries(parts);
  // Node-mean methods: a node with no rows has no mean to give.
  std::vector<Summary> with_rows;
  std::vector<std::string> with_rows_ids;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].rows > 0) {
      with_rows.push_back(parts[i]);
      with_rows_ids.push_back(ids[i]);
    }
  }
  if (method == "weighted_average") {
    const bool given = !config.weights.empty();
    std::vector<double> weights;
    double total = 0;
    for (const auto& id : with_rows_ids) {
      auto it = config.weights.find(id);
      if (given) {
        weights.push_back(it == config.weights.end() ? 0 : it->second);
      } else {
        auto rep = reputations.find(id);
        weights.push_back(rep == reputations.end() ? 1.0 : rep->second);
      }
      total += weights.back();
    }
    if (!with_rows.empty() && total <= 0) {
      return Status::FailedPrecondition("every node that succeeded (" + JoinNames(with_rows_ids) +
                                        ") has weight 0");
    }
    nlohmann::json used = nlohmann::json::object();
    for (size_t i = 0; i < weights.size(); ++i) used[with_rows_ids[i]] = weights[i] / total;
    extra["weights"] = std::move(used);
    extra["weights_source"] = given ? "config" : "reputation";
    if (with_rows.empty()) return Summary{};
    return WeightedAverageOfNodes(with_rows, weights);
  }
  if (method == "trimmed_mean") {
    extra["trim"] = config.trim;
    extra["trimmed_per_end"] = TrimmedPerEnd(with_rows.size(), config.trim);
    if (with_rows.empty()) return Summary{};
    return TrimmedMeanOfNodes(with_rows, config.trim);
  }
  if (method == "median") {
    if (with_rows.empty()) return Summary{};
    return MedianOfNodes(with_rows);
  }
  return Status::InvalidArgument("$.aggregation.method: unknown method '" + method + "'");
}

bool HasLabels(const NodeDescription& node, const std::map<std::string, std::string>& labels) {
  for (const auto& [key, value] : labels) {
    auto it = node.labels.find(key);
    if (it == node.labels.end() || it->second != value) return false;
  }
  return true;
}

std::string LabelsText(const std::map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ", ";
    out += key;
    out += '=';
    out += value;
  }
  return out;
}

// The nodes the orchestrator picks for a config without `nodes`: active nodes that hold the
// dataset and the model, carry the labels and reach reputation_min; the ones with the most
// free task slots first (then the best reputation, then by id), at most max_nodes. The
// error names the filter that left no node.
Result<std::vector<std::string>> ChooseNodes(const CollaborativeConfig& config,
                                             const std::vector<NodeDescription>& known) {
  std::vector<const NodeDescription*> candidates;
  for (const auto& n : known) {
    if (n.active && n.described && HoldsDataset(n, config.dataset)) candidates.push_back(&n);
  }
  if (candidates.empty()) {
    return Status::NotFound("$.dataset: no active node holds dataset '" + config.dataset + "'");
  }
  // Each filter in turn, so that the error says which one left nothing.
  auto keep = [&](auto&& pred, auto&& error) -> Status {
    std::vector<const NodeDescription*> kept;
    for (const auto* n : candidates) {
      if (pred(*n)) kept.push_back(n);
    }
    if (kept.empty()) return error(JoinNames(candidates, [](const auto* n) { return n->id; }));
    candidates = std::move(kept);
    return Status::Ok();
  };
  DIM_RETURN_IF_ERROR(keep([&](const NodeDescription& n) { return HoldsModel(n, config.model_id); },
                           [&](const std::string& names) {
                             return Status::NotFound("$.model_id: model '" + config.model_id +
                                                     "' is on none of the nodes that hold "
                                                     "dataset '" + config.dataset + "' (" +
                                                     names + ")");
                           }));
  DIM_RETURN_IF_ERROR(keep([&](const NodeDescription& n) { return HasLabels(n, config.labels); },
                           [&](const std::string& names) {
                             return Status::NotFound("$.labels: none of the nodes that could "
                                                     "run this job (" + names + ") has " +
                                                     LabelsText(config.labels));
                           }));
  DIM_RETURN_IF_ERROR(keep(
      [&](const NodeDescription& n) { return n.reputation >= config.reputation_min; },
      [&](const std::string& names) {
        return Status::NotFound("$.reputation_min: none of the nodes that could run this job (" +
                                names + ") has a reputation of " +
                                nlohmann::json(config.reputation_min).dump() + " or more");
      }));
  std::stable_sort(candidates.begin(), candidates.end(), [](const auto* a, const auto* b) {
    if (FreeCapacity(*a) != FreeCapacity(*b)) return FreeCapacity(*a) > FreeCapacity(*b);
    if (a->reputation != b->reputation) return a->reputation > b->reputation;
    return a->id < b->id;
  });
  if (config.max_nodes > 0 && candidates.size() > static_cast<size_t>(config.max_nodes)) {
    candidates.resize(config.max_nodes);
  }
  std::vector<std::string> chosen;
  for (const auto* n : candidates) chosen.push_back(n->id);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

// The node tasks that must succeed: min_nodes, or every node.
size_t Quorum(const CollaborativeConfig& config, size_t nodes) {
  return config.min_nodes > 0 ? static_cast<size_t>(config.min_nodes) : nodes;
}

}  // namespace

Result<std::vector<std::string>> SelectCollaborativeNodes(const CollaborativeConfig& config,
                                                          NodeDirectory& directory) {
  const auto known = directory.Describe();
  auto find = [&](const std::string& id) -> const NodeDescription* {
    for (const auto& n : known) {
      if (n.id == id) return &n;
    }
    return nullptr;
  };
  std::vector<std::string> chosen;
  if (!config.nodes.empty()) {
    for (size_t i = 0; i < config.nodes.size(); ++i) {
      const auto& id = config.nodes[i];
      const NodeDescription* node = find(id);
      if (node == nullptr) return UnknownNode(IndexPath("$.nodes", i), id, known);
      if (!HoldsDataset(*node, config.dataset)) {
        return Status::NotFound("$.dataset: node '" + id + "' has no dataset '" +
                                config.dataset + "' (it has: " + DatasetNames(*node) + ")");
      }
      if (node->described && !HoldsModel(*node, config.model_id)) {
        return Status::NotFound("$.model_id: model '" + config.model_id +
                                "' not found on node '" + id + "'");
      }
      chosen.push_back(id);
    }
  } else {
    DIM_ASSIGN_OR_RETURN(chosen, ChooseNodes(config, known));
  }
  // Weights by node id for nodes the orchestrator chose: every chosen node needs one.
  if (config.nodes.empty() && !config.weights.empty()) {
    for (const auto& id : chosen) {
      if (!config.weights.count(id)) {
        return Status::InvalidArgument("$.aggregation.weights: no weight for node '" + id +
                                       "' (nodes chosen: " + JoinNames(chosen) + ")");
      }
    }
    for (const auto& [id, w] : config.weights) {
      if (std::find(chosen.begin(), chosen.end(), id) == chosen.end()) {
        return Status::InvalidArgument(ChildPath("$.aggregation.weights", id) + ": node '" + id +
                                       "' is not among the nodes chosen (" + JoinNames(chosen) +
                                       ")");
      }
    }
  }
  if (config.min_nodes > static_cast<int>(chosen.size())) {
    return Status::InvalidArgument("$.min_nodes: " + std::to_string(config.min_nodes) +
                                   " exceeds the " + std::to_string(chosen.size()) +
                                   " nodes available");
  }
  return chosen;
}

NodeTask CollaborativeTask(const std::string& job_id, const CollaborativeConfig& config) {
  NodeTask task;
  task.job_id = job_id;
  task.model_id = config.model_id;
  task.dataset = config.dataset;
  task.columns = config.columns;
  task.task = config.task;
  task.differential_privacy = config.differential_privacy;
  return task;
}

Result<nlohmann::json> RunCollaborative(const std::string& job_id,
                                        const CollaborativeConfig& config,
                                        const std::vector<std::string>& nodes,
                                        NodeDirectory& directory, const CancelToken& cancel,
                                        const Clock& clock, const NodeUpdateFn& on_update) {
  const NodeTask task = CollaborativeTask(job_id, config);
  std::vector<NodeRunRequest> requests;
  for (const auto& id : nodes) requests.push_back({id, task});
  std::map<std::string, double> reputations;
  for (const auto& n : directory.Describe()) reputations[n.id] = n.reputation;
  DIM_ASSIGN_OR_RETURN(
      std::vector<NodeRunOutcome> outcomes,
      RunNodeTasks(requests, directory, cancel, clock, config.timeout_seconds, on_update,
                   Quorum(config, nodes.size())));

  std::vector<Summary> parts;
  std::vector<std::string> part_ids;
  nlohmann::json per_node = nlohmann::json::array();
  std::string failures;
  for (auto& o : outcomes) {
    if (o.record.state == TaskState::kCompleted) {
      if (auto* summary = std::get_if<Summary>(&o.result)) {
        parts.push_back(std::move(*summary));
        part_ids.push_back(o.record.node_id);
      } else {
        o.record.state = TaskState::kFailed;
        o.record.error = Status::Internal("the node sent something other than a summary");
      }
    }
    nlohmann::json n = {{"node_id", o.record.node_id},
                        {"status", TaskStateName(o.record.state)},
                        {"execution_time", FormatDuration(o.record.execution_seconds)}};
    if (o.record.state == TaskState::kCompleted) {
      n["summary"] = SummaryToJson(parts.back());
    } else {
      n["error"] = o.record.error.ToString();
      failures +=
          (failures.empty() ? "" : "; ") + o.record.node_id + ": " + o.record.error.ToString();
    }
    per_node.push_back(std::move(n));
  }
  const size_t quorum = Quorum(config, nodes.size());
  if (parts.size() < quorum) {
    return Status::FailedPrecondition(
        std::to_string(parts.size()) + " of " + std::to_string(nodes.size()) +
        " nodes succeeded (quorum " + std::to_string(quorum) + "): " + failures);
  }
  nlohmann::json extra = nlohmann::json::object();
  DIM_ASSIGN_OR_RETURN(Summary pooled, Aggregate(config, parts, part_ids, reputations, extra));
  nlohmann::json aggregate = SummaryToJson(pooled);
  aggregate["nodes_used"] = parts.size();
  nlohmann::json result = {{"pattern", "collaborative"},
                           {"model_id", config.model_id},
                           {"dataset", config.dataset},
                           {"aggregation_method", config.aggregation_method}};
  result.update(extra);
  if (config.differential_privacy) {
    const DifferentialPrivacy& dp = *config.differential_privacy;
    result["differential_privacy"] = {{"epsilon", dp.epsilon}, {"clip", {dp.clip_lo, dp.clip_hi}}};
  }
  result["aggregate"] = std::move(aggregate);
  result["nodes"] = std::move(per_node);
  return result;
}

}  // namespace dim::core
