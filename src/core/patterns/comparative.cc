#include "core/patterns/comparative.h"

#include <algorithm>
#include <vector>

#include "core/name_list.h"

namespace dim::core {
Result<std::string> SelectComparativeNode(const ComparativeConfig& config,
                                          NodeDirectory& directory) {
  const auto known = directory.Describe();
  if (!config.node_id.empty()) {
    auto it = std::find_if(known.begin(), known.end(),
                           [&](const NodeDescription& n) { return n.id == config.node_id; });
    if (it == known.end()) return UnknownNode("$.node_id", config.node_id, known);
    if (!HoldsDataset(*it, config.dataset)) {
      return Status::NotFound("$.dataset: node '" + it->id + "' has no dataset '" + config.dataset +
                              "' (it has: " + DatasetNames(*it) + ")");
    }
    if (it->described) {
      for (size_t i = 0; i < config.model_ids.size(); ++i) {
        if (!HoldsModel(*it, config.model_ids[i])) {
          return Status::NotFound("$.model_ids[" + std::to_string(i) + "]: model '" +
                                  config.model_ids[i] + "' not found on node '" + it->id + "'");
        }
      }
    }
    return it->id;
  }
  std::vector<std::string> lacking;
  bool any_dataset = false;
  const NodeDescription* best = nullptr;
  for (const auto& n : known) {  // sorted by id, so ties go to the first id
    if (!n.active || !n.described || !HoldsDataset(n, config.dataset)) continue;
    any_dataset = true;
    auto missing = std::find_if(config.model_ids.begin(), config.model_ids.end(),
                                [&](const std::string& m) { return !HoldsModel(n, m); });
    if (missing != config.model_ids.end()) {
      lacking.push_back(n.id + " lacks '" + *missing + "'");
    } else if (best == nullptr || FreeCapacity(n) > FreeCapacity(*best) ||
               (FreeCapacity(n) == FreeCapacity(*best) && n.reputation > best->reputation)) {
      best = &n;
    }
  }
  if (best != nullptr) return best->id;
  if (!any_dataset) {
    return Status::NotFound("$.dataset: no active node holds dataset '" + config.dataset + "'");
  }
  std::string reasons;
  for (const auto& l : lacking) reasons += (reasons.empty() ? "" : "; ") + l;
  return Status::NotFound("$.model_ids: no active node that holds dataset '" + config.dataset +
                          "' has all the models (" + reasons + ")");
}

NodeTask ComparativeTask(const std::string& job_id, const ComparativeConfig& config) {
  NodeTask task;
  task.job_id = job_id;
  task.kind = NodeTaskKind::kComparative;
  task.model_id = config.model_ids.at(0);
  task.model_ids = config.model_ids;
  task.dataset = config.dataset;
  task.columns = config.columns;
  task.consensus = config.consensus;
  return task;
}

Result<nlohmann::json> RunComparative(const std::string& job_id, const ComparativeConfig& config,
                                      const std::string& node_id, NodeDirectory& directory,
                                      const CancelToken& cancel, const Clock& clock,
                                      const NodeUpdateFn& on_update) {
  NodeRunRequest request;
  request.node_id = node_id;
  request.task = ComparativeTask(job_id, config);
  DIM_ASSIGN_OR_RETURN(
      std::vector<NodeRunOutcome> outcomes,
      RunNodeTasks({request}, directory, cancel, clock, config.timeout_seconds, on_update));
  NodeRunOutcome& outcome = outcomes.at(0);
  if (outcome.record.state != TaskState::kCompleted) {
    return Status::FailedPrecondition("node '" + node_id + "': " + outcome.record.error.ToString());
  }
  const auto* vote = std::get_if<ConsensusResult>(&outcome.result);
  if (vote == nullptr) {
    return Status::Internal("node '" + node_id + "' sent something other than a vote");
  }
  nlohmann::json out = {
      {"pattern", "comparative"},
      {"model_ids", config.model_ids},
      {"node_id", node_id},
      {"dataset", config.dataset},
      {"consensus_method", ConsensusMethodName(config.consensus.method)},
  };
  if (config.consensus.method == ConsensusMethod::kWeightedVote) {
    out["weights"] = config.consensus.weights;
  }
  if (config.consensus.method == ConsensusMethod::kExpertReview) {
    out["min_agreement"] = config.consensus.min_agreement;
  }
  nlohmann::json figures = ConsensusToJson(*vote, config.consensus.method);
  for (auto& [key, value] : figures.items()) out[key] = std::move(value);
  out["node"] = {{"node_id", node_id},
                 {"status", TaskStateName(outcome.record.state)},
                 {"execution_time", FormatDuration(outcome.record.execution_seconds)}};
  return out;
}

}  // namespace dim::core
