#include "core/patterns/collaborative.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/name_list.h"

namespace dim::core {
namespace {

using std::chrono::steady_clock;

bool Holds(const NodeDescription& node, const std::string& dataset) {
  if (!node.described) return true;  // unknown yet: the node will answer for itself
  if (dataset == "default" && !node.datasets.empty()) return true;
  return std::any_of(node.datasets.begin(), node.datasets.end(),
                     [&](const DatasetEntry& d) { return d.name == dataset; });
}

std::string DatasetNames(const NodeDescription& node) {
  const std::string names =
      JoinNames(node.datasets, [](const DatasetEntry& d) { return d.name; });
  return names.empty() ? "none" : names;
}

// What one node's thread reports back.
struct NodeOutcome {
  NodeTaskRecord record;
  Summary summary;
  bool done = false;
  steady_clock::time_point started;
  std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
};

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
      if (node == nullptr) {
        const std::string names =
            JoinNames(known, [](const NodeDescription& n) { return n.id; });
        return Status::NotFound("$.nodes[" + std::to_string(i) + "]: node '" + id +
                                "' not found (known nodes: " + (names.empty() ? "none" : names) +
                                ")");
      }
      if (!Holds(*node, config.dataset)) {
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
      if (!n.active || !n.described || !Holds(n, config.dataset)) continue;
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

  std::mutex mu;
  std::condition_variable cv;
  std::vector<NodeOutcome> outcomes(nodes.size());
  std::vector<std::thread> threads;
  threads.reserve(nodes.size());
  const auto timeout = std::chrono::milliseconds(
      static_cast<int64_t>(config.timeout_seconds * 1000.0));

  // Held while launching so that a fast node's final update cannot run alongside the
  // "running" update of a node launched after it: on_update calls stay serialised.
  std::unique_lock launch_lock(mu);
  for (size_t i = 0; i < nodes.size(); ++i) {
    NodeOutcome& out = outcomes[i];
    out.record.node_id = nodes[i];
    out.record.status = "running";
    out.record.started_at = FormatIso8601(clock.Now());
    out.started = steady_clock::now();
    on_update(out.record);
    threads.emplace_back([&, i] {
      NodeOutcome& o = outcomes[i];
      Result<Summary> result = Status::Unavailable("not run");
      auto client = directory.Client(nodes[i]);
      if (!client.ok()) {
        result = client.status();
      } else {
        result = (*client)->RunSummaryTask(task, *o.cancel, timeout);
      }
      std::lock_guard lock(mu);
      if (o.done) return;  // already timed out or cancelled by the monitor
      o.done = true;
      o.record.completed_at = FormatIso8601(clock.Now());
      o.record.execution_seconds =
          std::chrono::duration<double>(steady_clock::now() - o.started).count();
      if (result.ok()) {
        o.summary = std::move(*result);
        o.record.status = "completed";
      } else {
        o.record.status = result.status().code() == StatusCode::kCancelled ? "cancelled" : "failed";
        o.record.error = result.status().ToString();
      }
      on_update(o.record);
      cv.notify_all();
    });
  }
  launch_lock.unlock();

  // Monitor: cancellation and per-node time limits, without trusting nodes to honour them.
  {
    std::unique_lock lock(mu);
    for (;;) {
      const bool all_done = std::all_of(outcomes.begin(), outcomes.end(),
                                        [](const NodeOutcome& o) { return o.done; });
      if (all_done) break;
      const auto now = steady_clock::now();
      for (auto& o : outcomes) {
        if (o.done) continue;
        if (cancel.cancelled()) {
          o.cancel->Cancel();
          o.done = true;
          o.record.status = "cancelled";
          o.record.error = "CANCELLED: job cancelled";
        } else if (timeout.count() > 0 && now - o.started > timeout) {
          o.cancel->Cancel();
          o.done = true;
          o.record.status = "failed";
          o.record.error = "DEADLINE_EXCEEDED: node task ran past the job timeout of " +
                           FormatDuration(config.timeout_seconds);
        } else {
          continue;
        }
        o.record.completed_at = FormatIso8601(clock.Now());
        o.record.execution_seconds = std::chrono::duration<double>(now - o.started).count();
        on_update(o.record);
      }
      cv.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
  for (auto& t : threads) t.join();

  if (cancel.cancelled()) return Status::Cancelled("job cancelled");

  std::vector<Summary> parts;
  nlohmann::json per_node = nlohmann::json::array();
  std::string failures;
  for (const auto& o : outcomes) {
    nlohmann::json n = {{"node_id", o.record.node_id},
                        {"status", o.record.status},
                        {"execution_time", FormatDuration(o.record.execution_seconds)}};
    if (o.record.status == "completed") {
      parts.push_back(o.summary);
      n["summary"] = SummaryToJson(o.summary);
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
