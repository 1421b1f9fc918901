// A node's task queue: bounded, by priority then arrival, run by a fixed set of workers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/custody/custody.h"
#include "core/job_types.h"
#include "core/node/cancel_token.h"
#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/node_client.h"
#include "core/node/node_task.h"
#include "core/node/task_runner.h"
#include "core/status.h"

namespace dim::core {

// A task that ended, as TaskQueueOptions::on_task_end hears of it.
struct TaskEnd {
  std::string job_id;
  std::string kind;     // summary, comparative or step
  std::string dataset;  // "client rows" for a step over rows sent with the task
  std::string model;    // the task's model (the first, for a comparative task)
  TaskState state = TaskState::kCompleted;  // completed, failed or cancelled
  Status error;                             // why, unless completed
  double seconds = 0;
  int64_t rows = 0;  // rows the task's models ran on (0 unless completed)
};

struct TaskQueueOptions {
  int max_concurrent = 2;       // tasks run at once
  int max_queued = 256;         // waiting tasks beyond which Submit is RESOURCE_EXHAUSTED
  size_t keep_finished = 4096;  // finished tasks remembered for GetJobStatus
  // ... and the most bytes their results may hold; beyond, the oldest results that someone
  // has read are forgotten first (a result not yet read, and the newest, stay).
  size_t keep_finished_bytes = size_t{64} << 20;
  NodePolicy policy = {};       // what this node's data may be used for (min_samples)
  // The node's site policy, ledger and budget (not owned; null: none, only `policy`). Each
  // task is admitted by it at Submit and its release recorded by it before the task is
  // completed; a release it cannot record fails the task.
  NodeCustody* custody = nullptr;
  // A task that was followed (WaitForEnd, as an orchestrator follows its tasks) and then had
  // no waiter, nor a look (Get), for this long is cancelled as abandoned: whoever sent it is
  // gone (an orchestrator that restarted, or gave the node up as unreachable). Zero: never.
  // Tasks nobody ever waited on (clients that only poll Get) are never abandoned.
  std::chrono::milliseconds abandon_after{0};
  // Told of each task's end (metrics, logs), outside the queue's lock; quick, thread-safe.
  std::function<void(const TaskEnd&)> on_task_end = nullptr;
};

// The state of one task as the daemon protocol reports it.
struct TaskView {
  std::string job_id;
  TaskState state = TaskState::kQueued;  // queued, running, completed, failed, cancelled
  // Once completed: what the task returned, and its document as released (ReleasedBytes'
  // text: TaskDocument, with the output rows inside only for a task that got them as JSON).
  std::shared_ptr<const TaskResult> result;
  std::string result_json;
  bool rows_as_json = false;  // the task's rows came (and its output rows go back) as JSON
  Status error;               // why the task failed or was cancelled; OK otherwise
  std::string started_at;
  std::string completed_at;
  double execution_seconds = 0;
  // Rows the task's models have gone through so far, of rows_total (0: not known yet).
  int64_t rows_done = 0;
  int64_t rows_total = 0;
};

struct TaskStats {
  int active = 0;
  int queued = 0;
  int total = 0;
  int successful = 0;
  int failed = 0;
  double avg_execution_seconds = 0;
};

// Called once with a task's view; see TaskQueue::WaitForEnd.
using TaskWaiter = std::function<void(const TaskView&)>;

// Thread-safe.
class TaskQueue final {
 public:
  TaskQueue(ModelRepository& models, const DatasetCatalog& datasets, const Clock& clock,
            TaskQueueOptions options);
  ~TaskQueue();  // cancels running tasks, joins the workers, and calls the waiters left

  // Checks the task can run here (dataset and models exist, models load, the node's policy
  // allows it) and queues it. A model the repository can fetch but does not hold yet is
  // accepted, and fetched by the worker that runs the task (its errors fail the task).
  // A finished task's result is what RunNodeTask returns, run under options.policy. NOT_FOUND /
  // INVALID_ARGUMENT from those checks; FAILED_PRECONDITION from CheckNodePolicy; ALREADY_EXISTS
  // when a task with this id is queued or running; RESOURCE_EXHAUSTED when the queue is full.
  [[nodiscard]] Status Submit(NodeTask task, Priority priority);
  // The checks of Submit, and the budget the task's dataset has left; queues, reserves and
  // runs nothing.
  DryRunVerdict DryRun(NodeTask task);
  // NOT_FOUND for an unknown id. A look at a task counts as following it: it puts off the
  // task's abandonment (see abandon_after) as a waiter leaving now would.
  Result<TaskView> Get(const std::string& job_id);
  // Stops a queued or running task (running ones at their next batch).
  // NOT_FOUND; FAILED_PRECONDITION when it already ended.
  [[nodiscard]] Status Cancel(const std::string& job_id);
  TaskStats Stats() const;

  // Calls `done` exactly once with the task's view: when the task ends (completed, failed,
  // or cancelled, also while queued), or with its view then (queued or running) when
  // `deadline` passes or CancelWait is called, whichever comes first. A task that has
  // already ended is answered at once, from this thread, and 0 is returned; otherwise a
  // handle for CancelWait. `done` runs outside the queue's lock, on a worker, the queue's
  // timer thread or the caller of Cancel/CancelWait; it must be quick (it may call Get).
  // NOT_FOUND for an unknown id.
  Result<int64_t> WaitForEnd(const std::string& job_id,
                             std::chrono::steady_clock::time_point deadline, TaskWaiter done);
  // Calls the waiter now, from this thread, unless it has already been called (or is being
  // called elsewhere). Unknown handles and 0 are ignored.
  void CancelWait(int64_t handle);

 private:
  struct Task {
    NodeTask spec;
    NodePolicy policy;    // options.policy, with the dataset's min_samples of the custody
    Admission admission;  // what the custody reserved for it
    Priority priority;
    int64_t seq;
    TaskView view;
    std::shared_ptr<CancelToken> cancel = std::make_shared<CancelToken>();
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point last_followed;  // its last waiter went, or a Get
    bool check_pending = false;                          // in abandon_checks_
    bool abandoned = false;                              // cancelled as abandoned
    size_t kept_bytes = 0;  // its result's, once finished (TaskQueueOptions::keep_finished_bytes)
    bool delivered = false;  // its end was given to a waiter or a Get
  };
  struct Order {
    Priority priority;
    int64_t seq;
    std::string id;
    bool operator<(const Order& o) const {
      if (priority != o.priority) return priority < o.priority;
      return seq > o.seq;
    }
  };
  struct Waiter {
    std::string job_id;
    std::chrono::steady_clock::time_point deadline;
    TaskWaiter done;
  };
  // A waiter taken out of the books under mu_, to be called once mu_ is released.
  using Call = std::pair<TaskWaiter, TaskView>;

  void WorkerLoop();
  // Calls waiters whose deadline passed, and abandons tasks whose followers are gone.
  void TimerLoop();
  // Under mu_: stops a queued task at once (its waiters go to `calls`), or a running one at
  // its next batch; `why` becomes the task's error.
  void CancelLocked(Task& task, const std::string& why, std::vector<Call>& calls);
  // Under mu_: looks at the task abandon_after after its last waiter went.
  void ScheduleAbandonCheckLocked(Task& task);
  // Under mu_: cancels the task if it has been abandoned (see abandon_after).
  void AbandonIfUnfollowedLocked(const std::string& job_id, std::vector<Call>& calls);
  std::string AbandonedReason() const;
  // `document`: the result's text (TaskDocument), for a result that is not an error.
  void Finish(Task& task, Result<TaskResult> result, std::string document);
  // Under mu_: the task's view, with its progress now.
  TaskView Snapshot(const Task& task) const;
  // The digests of the task's models where they are here ("" where not).
  std::vector<std::string> ModelDigests(const NodeTask& task);
  // Under mu_: takes the waiter out of every index; its call, with `view`.
  Call TakeWaiterLocked(std::map<int64_t, Waiter>::iterator it, TaskView view);
  // Under mu_: takes out the waiters of a task that ended.
  void TakeWaitersLocked(const TaskView& view, std::vector<Call>& calls);

  ModelRepository& models_;
  const DatasetCatalog& datasets_;
  const Clock& clock_;
  TaskQueueOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int64_t next_seq_ = 0;
  std::priority_queue<Order> queue_;
  std::map<std::string, std::shared_ptr<Task>> tasks_;
  std::deque<std::string> finished_order_;
  size_t finished_bytes_ = 0;  // the kept_bytes of the tasks of finished_order_
  int active_ = 0;
  int releasing_ = 0;  // tasks whose release the custody is recording
  std::condition_variable released_cv_;
  int queued_ = 0;
  int total_ = 0, successful_ = 0, failed_ = 0;
  double total_seconds_ = 0;
  std::map<int64_t, Waiter> waiters_;
  std::multimap<std::string, int64_t> waiters_by_task_;
  std::set<std::pair<std::chrono::steady_clock::time_point, int64_t>> deadlines_;
  // When to look whether a task whose last waiter went has been abandoned.
  std::set<std::pair<std::chrono::steady_clock::time_point, std::string>> abandon_checks_;
  int64_t next_waiter_ = 1;
  std::condition_variable timer_cv_;
  std::vector<std::thread> workers_;
  std::thread timer_;
};

}  // namespace dim::core
