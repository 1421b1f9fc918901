// How a pattern reaches a node: in-process (local mode) or over gRPC. Patterns only see this.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/node/cancel_token.h"
#include "core/node/dataset_catalog.h"
#include "core/node/node_task.h"
#include "core/stats/summary.h"

namespace dim::core {

// What the orchestrator knows of a node, for selection, validation and `dim health`.
struct NodeDescription {
  std::string id;
  std::string address;        // empty for in-process nodes
  bool active = true;
  std::string source;         // "static", "registered" or "local"
  std::string last_seen;      // ISO 8601, empty when never seen
  bool described = false;     // whether datasets/models below are known
  std::vector<DatasetEntry> datasets;
  std::vector<std::string> models;
  int active_jobs = 0;
  int queued_jobs = 0;
  int max_concurrent_jobs = 0;
  std::string error;          // last contact error, if any
};

class NodeClient {
 public:
  virtual ~NodeClient() = default;

  // Runs the task (of either kind) on the node to its end and returns the document that
  // left the node: a JSON object, as RunNodeTask (task_runner.h) makes it. Blocks the
  // calling thread. Stops with CANCELLED soon after `cancel` is raised (and asks the node to
  // stop), DEADLINE_EXCEEDED after `timeout` (zero: none). UNAVAILABLE when the node cannot
  // be reached; INTERNAL when its answer is not a JSON object; otherwise the node's own
  // error.
  virtual Result<nlohmann::json> RunTask(const NodeTask& task, const CancelToken& cancel,
                                         std::chrono::milliseconds timeout) = 0;

  // RunTask for a summary task, with the summary read back from the node's document
  // (INTERNAL when it is not one).
  Result<Summary> RunSummaryTask(const NodeTask& task, const CancelToken& cancel,
                                 std::chrono::milliseconds timeout);
};

// The nodes a pattern may use. Thread-safe.
class NodeDirectory {
 public:
  virtual ~NodeDirectory() = default;
  // NOT_FOUND naming the node.
  virtual Result<std::shared_ptr<NodeClient>> Client(const std::string& node_id) = 0;
  // Every known node, sorted by id.
  virtual std::vector<NodeDescription> Describe() = 0;
};

}  // namespace dim::core
