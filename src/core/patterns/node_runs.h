// Running a job's node tasks in parallel, with cancellation and per-node time limits that do
// not rely on the nodes honouring them. Shared by the patterns.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/job_types.h"
#include "core/node/node_client.h"

namespace dim::core {

// Called (from any thread, serialised by the caller) whenever a node task changes state;
// `index` is the task's place in the job's node list (JobRecord::nodes).
using NodeUpdateFn = std::function<void(size_t index, const NodeTaskRecord&)>;

// One node task: which node runs what.
struct NodeRunRequest {
  std::string node_id;
  NodeTask task;
};

// How one node task ended. result is what the node returned when record.state is
// kCompleted; otherwise record.state is kFailed or kCancelled and record.error says why.
struct NodeRunOutcome {
  NodeTaskRecord record;
  TaskResult result;
};

// Runs every request at once, and returns their outcomes in the order of `requests`: with
// NodeClient::StartTask where the node's client runs tasks without a thread (gRPC), else with
// RunTask on a thread of directory.StartThread. Node clients are looked up as the tasks
// start. A task that runs past timeout_seconds (0: none) is told to stop and fails with
// DEADLINE_EXCEEDED; when `cancel` is raised every running task is told to stop and
// CANCELLED is returned. Once so many tasks failed that fewer than `quorum` can succeed
// (0: no quorum), the others are told to stop and end cancelled with that reason, so a
// lost quorum does not wait for the slowest node. on_update sees each task start
// (kRunning) and end, with the task's index in `requests`. Each task's end is reported to
// directory.RecordTaskOutcome.
Result<std::vector<NodeRunOutcome>> RunNodeTasks(const std::vector<NodeRunRequest>& requests,
                                                 NodeDirectory& directory,
                                                 const CancelToken& cancel, const Clock& clock,
                                                 double timeout_seconds,
                                                 const NodeUpdateFn& on_update,
                                                 size_t quorum = 0);

// Whether a node holds the dataset; a node that has not described itself yet is given the
// benefit of the doubt (it answers for itself when the task reaches it). "default" is held
// by any node with a dataset.
bool HoldsDataset(const NodeDescription& node, const std::string& dataset);
// The node's dataset names ("a, b"), or "none".
std::string DatasetNames(const NodeDescription& node);
// Whether the node lists the model (meaningful once the node has described itself), or can
// get it otherwise, e.g. from the orchestrator's model store (NodeDescription::can_get_model).
bool HoldsModel(const NodeDescription& node, const std::string& model);
// NOT_FOUND "<path>: node '<id>' not found (known nodes: a, b)" ("none" when there are none).
Status UnknownNode(const std::string& path, const std::string& id,
                   const std::vector<NodeDescription>& known);

}  // namespace dim::core
