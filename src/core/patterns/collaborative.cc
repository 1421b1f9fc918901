#include "core/patterns/collaborative.h"

#include <algorithm>

#include "core/name_list.h"

namespace dim::core {

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
      if (node == nullptr) {
        const std::string names =
            JoinNames(known, [](const NodeDescription& n) { return n.id; });
        return Status::NotFound("$.nodes[" + std::to_string(i) + "]: node '" + id +
                                "' not found (known nodes: " + (names.empty() ? "none" : names) +
                                ")");
      }
      if (!HoldsDataset(*node, config.dataset)) {
        return Status::NotFound("$.dataset: node '" + id + "' has no dataset '" +
                                config.dataset + "' (it has: " + DatasetNames(*node) + ")");
      }
      if (node->described &&
          std::find(node->models.begin(), node->models.end(), config.model_id) ==
              node->models.end()) {
        return Status::NotFound("$.model_id: model '" + config.model_id +
                                "' not found on node '" + id + "'");
      }
      chosen.push_back(id);
    }
  } else {
    std::vector<std::string> with_dataset;
    for (const auto& n : known) {
      if (!n.active || !n.described || !HoldsDataset(n, config.dataset)) continue;
      with_dataset.push_back(n.id);
      if (std::find(n.models.begin(), n.models.end(), config.model_id) != n.models.end()) {
        chosen.push_back(n.id);
      }
    }
    if (with_dataset.empty()) {
      return Status::NotFound("$.dataset: no active node holds dataset '" + config.dataset + "'");
    }
    if (chosen.empty()) {
      const std::string names = JoinNames(with_dataset);
      return Status::NotFound("$.model_id: model '" + config.model_id +
                              "' is on none of the nodes that hold dataset '" + config.dataset +
                              "' (" + names + ")");
    }
  }
  if (config.min_nodes > static_cast<int>(chosen.size())) {
    return Status::InvalidArgument("$.min_nodes: " + std::to_string(config.min_nodes) +
                                   " exceeds the " + std::to_string(chosen.size()) +
                                   " nodes available");
  }
  return chosen;
}

Result<nlohmann::json> RunCollaborative(const std::string& job_id,
                                        const CollaborativeConfig& config,
                                        const std::vector<std::string>& nodes,
                                        NodeDirectory& directory, const CancelToken& cancel,
                                        const Clock& clock, const NodeUpdateFn& on_update) {
  NodeTask task;
  task.job_id = job_id;
  task.model_id = config.model_id;
  task.dataset = config.dataset;
  task.columns = config.columns;
  task.task = config.task;
  std::vector<NodeRunRequest> requests;
  for (const auto& id : nodes) requests.push_back({id, task});
  DIM_ASSIGN_OR_RETURN(
      std::vector<NodeRunOutcome> outcomes,
      RunNodeTasks(requests, directory, cancel, clock, config.timeout_seconds, on_update));

  std::vector<Summary> parts;
  nlohmann::json per_node = nlohmann::json::array();
  std::string failures;
  for (auto& o : outcomes) {
    if (o.record.status == "completed") {
      auto summary = SummaryFromJson(o.result);
      if (summary.ok()) {
        parts.push_back(*summary);
      } else {
        o.record.status = "failed";
        o.record.error =
            "INTERNAL: the node sent a malformed summary: " + summary.status().message();
      }
    }
    nlohmann::json n = {{"node_id", o.record.node_id},
                        {"status", o.record.status},
                        {"execution_time", FormatDuration(o.record.execution_seconds)}};
    if (o.record.status == "completed") {
      n["summary"] = SummaryToJson(parts.back());
    } else {
      n["error"] = o.record.error;
      failures += (failures.empty() ? "" : "; ") + o.record.node_id + ": " + o.record.error;
    }
    per_node.push_back(std::move(n));
  }
  const size_t quorum = config.min_nodes > 0 ? static_cast<size_t>(config.min_nodes) : nodes.size();
  if (parts.size() < quorum) {
    return Status::FailedPrecondition(
        std::to_string(parts.size()) + " of " + std::to_string(nodes.size()) +
        " nodes succeeded (quorum " + std::to_string(quorum) + "): " + failures);
  }
  DIM_ASSIGN_OR_RETURN(Summary pooled, PoolSummaries(parts));
  nlohmann::json aggregate = SummaryToJson(pooled);
  aggregate["nodes_used"] = parts.size();
  return nlohmann::json{{"pattern", "collaborative"},
                        {"model_id", config.model_id},
                        {"dataset", config.dataset},
                        {"aggregation_method", config.aggregation_method},
                        {"aggregate", std::move(aggregate)},
                        {"nodes", std::move(per_node)}};
}

}  // namespace dim::core
