#include "core/patterns/node_runs.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "core/name_list.h"

namespace dim::core {
namespace {

using std::chrono::steady_clock;

// What one node's thread reports back.
struct Run {
  NodeRunOutcome outcome;
  bool done = false;
  steady_clock::time_point started;
  std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
  steady_clock::time_point progress_shown{};
};

// How often a running task's progress is passed on: watchers see it move, and a job over
// many nodes does not flood them.
constexpr std::chrono::milliseconds kProgressEvery{250};

}  // namespace

bool HoldsDataset(const NodeDescription& node, const std::string& dataset) {
  if (!node.described) return true;
  if (dataset == "default" && !node.datasets.empty()) return true;
  return std::any_of(node.datasets.begin(), node.datasets.end(),
                     [&](const DatasetEntry& d) { return d.name == dataset; });
}

std::string DatasetNames(const NodeDescription& node) {
  const std::string names = JoinNames(node.datasets, [](const DatasetEntry& d) { return d.name; });
  return names.empty() ? "none" : names;
}

bool HoldsModel(const NodeDescription& node, const std::string& model) {
  if (node.can_get_model && node.can_get_model(model)) return true;
  return std::find(node.models.begin(), node.models.end(), model) != node.models.end();
}

Status UnknownNode(const std::string& path, const std::string& id,
                   const std::vector<NodeDescription>& known) {
  const std::string names = JoinNames(known, [](const NodeDescription& n) { return n.id; });
  return Status::NotFound(path + ": node '" + id + "' not found (known nodes: " +
                          (names.empty() ? "none" : names) + ")");
}

Result<std::vector<NodeRunOutcome>> RunNodeTasks(const std::vector<NodeRunRequest>& requests,
                                                 NodeDirectory& directory,
                                                 const CancelToken& cancel, const Clock& clock,
                                                 double timeout_seconds,
                                                 const NodeUpdateFn& on_update, size_t quorum) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Run> runs(requests.size());
  size_t returned = 0;  // tasks whose end was reported: done with runs, mu and cv (this stack)
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds * 1000.0));

  // Every task is shown running before any is started, so that a fast node's end cannot be
  // reported before another node's start: on_update calls stay serialised.
  {
    std::lock_guard lock(mu);
    for (size_t i = 0; i < requests.size(); ++i) {
      NodeTaskRecord& record = runs[i].outcome.record;
      record.node_id = requests[i].node_id;
      record.state = TaskState::kRunning;
      record.started_at = FormatIso8601(clock.Now());
      runs[i].started = steady_clock::now();
      on_update(i, record);
    }
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    NodeClient::TaskDone finish = [&, i](Result<TaskResult> result) {
      std::lock_guard lock(mu);
      // The monitor is woken when it has something to do: every task has reported, or one
      // failed (the quorum may be lost); a task that succeeded while others run needs nothing.
      ++returned;
      if (returned == runs.size() || !result.ok()) cv.notify_all();
      Run& r = runs[i];
      if (r.done) return;  // already timed out or cancelled by the monitor
      r.done = true;
      NodeTaskRecord& record = r.outcome.record;
      record.completed_at = FormatIso8601(clock.Now());
      record.execution_seconds =
          std::chrono::duration<double>(steady_clock::now() - r.started).count();
      record.rows_done = r.cancel->rows_done();
      record.rows_total = r.cancel->rows_total();
      if (result.ok()) {
        r.outcome.result = std::move(*result);
        record.state = TaskState::kCompleted;
      } else {
        record.state = EndedState(result.status());
        record.error = result.status();
      }
      on_update(i, record);
    };
    auto client = directory.Client(requests[i].node_id);
    if (!client.ok()) {
      finish(client.status());
      continue;
    }
    // A client that runs tasks without a thread of its own (gRPC) needs none of ours.
    if ((*client)->StartTask(requests[i].task, *runs[i].cancel, timeout, finish)) continue;
    directory.StartThread([&, i, finish = std::move(finish), node = *std::move(client)]() mutable {
      Result<TaskResult> result = node->RunTask(requests[i].task, *runs[i].cancel, timeout);
      node.reset();  // let go of the node before the caller can return (and its directory go)
      finish(std::move(result));
    });
  }

  // Monitor: cancellation and per-node time limits, without trusting nodes to honour them.
  {
    std::unique_lock lock(mu);
    for (;;) {
      const bool all_done =
          std::all_of(runs.begin(), runs.end(), [](const Run& r) { return r.done; });
      if (all_done) break;
      const auto failed =
          static_cast<size_t>(std::count_if(runs.begin(), runs.end(), [](const Run& r) {
            return r.done && r.outcome.record.state != TaskState::kCompleted;
          }));
      const bool quorum_lost = quorum > 0 && runs.size() - failed < quorum;
      const auto now = steady_clock::now();
      for (size_t i = 0; i < runs.size(); ++i) {
        Run& r = runs[i];
        if (r.done) continue;
        NodeTaskRecord& record = r.outcome.record;
        if (cancel.cancelled()) {
          r.cancel->Cancel();
          r.done = true;
          record.state = TaskState::kCancelled;
          record.error = Status::Cancelled("job cancelled");
        } else if (quorum_lost) {
          r.cancel->Cancel();
          r.done = true;
          record.state = TaskState::kCancelled;
          record.error = Status::Cancelled("stopped: " + std::to_string(failed) + " of " +
                                           std::to_string(runs.size()) +
                                           " node tasks failed, so the quorum of " +
                                           std::to_string(quorum) + " can no longer be reached");
        } else if (timeout.count() > 0 && now - r.started > timeout) {
          r.cancel->Cancel();
          r.done = true;
          record.state = TaskState::kFailed;
          record.error = Status::DeadlineExceeded("node task ran past its time limit of " +
                                                  FormatDuration(timeout_seconds));
        } else {
          // Progress, as the task's runner reports it: shown at most every kProgressEvery.
          const int64_t done = r.cancel->rows_done();
          const int64_t total = r.cancel->rows_total();
          if ((done != record.rows_done || total != record.rows_total) &&
              now - r.progress_shown >= kProgressEvery) {
            record.rows_done = done;
            record.rows_total = total;
            r.progress_shown = now;
            on_update(i, record);
          }
          continue;
        }
        record.completed_at = FormatIso8601(clock.Now());
        record.execution_seconds = std::chrono::duration<double>(now - r.started).count();
        on_update(i, record);
      }
      cv.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
  {
    // A task the monitor ended may still be running: wait for its thread to let go.
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return returned == runs.size(); });
  }
  for (const auto& r : runs)
    directory.RecordTaskOutcome(r.outcome.record.node_id, r.outcome.record.error);

  if (cancel.cancelled()) return Status::Cancelled("job cancelled");
  std::vector<NodeRunOutcome> outcomes;
  outcomes.reserve(runs.size());
  for (auto& r : runs) outcomes.push_back(std::move(r.outcome));
  return outcomes;
}

}  // namespace dim::core
