// How a pattern reaches a node: in-process (local mode) or over gRPC. Patterns only see this.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/node/cancel_token.h"
#include "core/node/dataset_catalog.h"
#include "core/node/node_task.h"
#include "core/node/task_result.h"
#include "core/stats/summary.h"

namespace dim::core {

// A node's machine, as it reports it.
struct NodeResources {
  bool known = false;  // false until the node has reported them
  int cpu_available = 0;
  int memory_available_gb = 0;
  bool gpu_available = false;
  double cpu_percent = 0;
  double memory_percent = 0;
};

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
  std::map<std::string, std::string> labels;
  NodeResources resources;
  // Share of the node's recent tasks that succeeded, from 1.0 for a new node: each task
  // that ends moves it a tenth of the way towards 1 (succeeded) or 0 (failed by the node:
  // unreachable, out of time, internal error). Errors in the job's own config do not count.
  double reputation = 1.0;
  int tasks_succeeded = 0;
  int tasks_failed = 0;
  // Whether the node can run a model (a name or sha256:<hex>) that `models` does not list:
  // one of the orchestrator's model store, for a daemon that fetches from it (registered
  // with --orchestrator); a sha256:<hex> id of a file of its folder, for a local node.
  // Empty: `models` is all it has.
  std::function<bool(const std::string&)> can_get_model;
};

// The longest node id.
inline constexpr size_t kMaxNodeIdBytes = 128;
// INVALID_ARGUMENT unless `id` is a usable node id: 1 to kMaxNodeIdBytes bytes of UTF-8,
// with no space, control character, ',' or '=' (node lists are comma-separated, node specs
// are ID=ADDR): "node id must not be empty", "node id 'a b': no spaces, control
// characters, ',' or '='".
Status CheckNodeId(std::string_view id);

// Free task slots: max_concurrent_jobs less the tasks running and queued (may be negative).
inline int FreeCapacity(const NodeDescription& node) {
  return node.max_concurrent_jobs - node.active_jobs - node.queued_jobs;
}

// Whether a node task that ended with `status` speaks against the node (see reputation).
bool CountsAgainstNode(const Status& status);
// The reputation after one more task that ended with `status`.
double NextReputation(double reputation, const Status& status);

// What a node says of a task it was asked about and did not run (`dim submit --dry-run`).
struct DryRunVerdict {
  Status refusal;           // OK: it would accept the task; otherwise why not
  double epsilon = 0;       // the ε it would spend
  bool has_budget = false;  // the dataset has a privacy budget
  double budget_left = 0;   // ε left of it before this task
};

class NodeClient {
 public:
  virtual ~NodeClient() = default;

  // Asks the node whether it would accept `task`, running and spending nothing. An error
  // means the node could not be asked (UNAVAILABLE, or UNIMPLEMENTED for a node that does
  // not answer dry runs: the default); a refusal is in the verdict.
  virtual Result<DryRunVerdict> DryRun(const NodeTask& /*task*/) {
    return Status::Unimplemented("this node does not answer dry runs");
  }

  // Runs the task (of any kind) on the node to its end and returns what left the node, as
  // RunNodeTask (task_runner.h) makes it: a Summary for a summary task, a ConsensusResult
  // for a comparative one, a StepOutput for a step. Blocks the calling thread. Stops with
  // CANCELLED soon after `cancel` is raised (and asks the node to stop), DEADLINE_EXCEEDED
  // after `timeout` (zero: none). UNAVAILABLE when the node cannot be reached; INTERNAL when
  // its answer is malformed or not of the task's kind; otherwise the node's own error.
  virtual Result<TaskResult> RunTask(const NodeTask& task, const CancelToken& cancel,
                                     std::chrono::milliseconds timeout) = 0;

  // What StartTask reports when the task ends: what RunTask would have returned.
  using TaskDone = std::function<void(Result<TaskResult>)>;
  // Runs the task as RunTask does, without holding a thread for it, where the client can:
  // returns true, having taken `done`, and calls it exactly once, from any thread (also
  // before StartTask returns), when the task ends; `cancel` must stay valid until then, and
  // that call is the client's last use of it. Returns false, leaving `done` as it was, for a
  // client that runs tasks only on the caller's thread (RunTask): the default.
  virtual bool StartTask(const NodeTask& /*task*/, const CancelToken& /*cancel*/,
                         std::chrono::milliseconds /*timeout*/, TaskDone& /*done*/) {
    return false;
  }

  // RunTask for a summary task (INTERNAL when the node returned anything else).
  Result<Summary> RunSummaryTask(const NodeTask& task, const CancelToken& cancel,
                                 std::chrono::milliseconds timeout);

 protected:
  // RunTask for a client whose StartTask takes every task: starts it, and blocks the calling
  // thread until StartTask's callback reports the end.
  Result<TaskResult> RunStartedTask(const NodeTask& task, const CancelToken& cancel,
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
  // Told how each node task ended, for the node's reputation. Nothing by default.
  virtual void RecordTaskOutcome(const std::string& /*node_id*/, const Status& /*status*/) {}
  // Starts `work` at once on a thread of its own: it runs a node task, and blocks until the
  // task ends. A new thread each time by default; the job service reuses its threads.
  virtual void StartThread(std::function<void()> work);
};

}  // namespace dim::core
