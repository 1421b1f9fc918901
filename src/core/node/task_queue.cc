#include "core/node/task_queue.h"

#include "core/node/task_runner.h"
#include "core/text.h"

namespace dim::core {
namespace {

// Whether a task in this state has yet to end (queued or running).
bool Live(TaskState state) { return state == TaskState::kQueued || state == TaskState::kRunning; }

}  // namespace

TaskQueue::TaskQueue(ModelRepository& models, const DatasetCatalog& datasets, const Clock& clock,
                     TaskQueueOptions options)
    : models_(models), datasets_(datasets), clock_(clock), options_(options) {
  for (int i = 0; i < std::max(1, options_.max_concurrent); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  timer_ = std::thread([this] { TimerLoop(); });
}

TaskQueue::~TaskQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, t] : tasks_) t->cancel->Cancel();
  }
  cv_.notify_all();
  timer_cv_.notify_all();
  for (auto& w : workers_) w.join();
  {
    // Releases being recorded finish their tasks from the ledger's thread: wait for them.
    std::unique_lock lock(mu_);
    released_cv_.wait(lock, [&] { return releasing_ == 0; });
  }
  timer_.join();
  // Waiters of tasks that never ran (still queued) get their answer now.
  std::vector<Call> calls;
  {
    std::lock_guard lock(mu_);
    while (!waiters_.empty()) {
      auto task = tasks_.find(waiters_.begin()->second.job_id);
      TaskView view = task != tasks_.end() ? Snapshot(*task->second) : TaskView{};
      calls.push_back(TakeWaiterLocked(waiters_.begin(), std::move(view)));
    }
  }
  for (auto& [done, view] : calls) done(view);
}

Status TaskQueue::Submit(NodeTask task, Priority priority) {
  // Fail fast, before queueing, on what the caller got wrong.
  if (!datasets_.Has(task.dataset)) return datasets_.Find(task.dataset).status();
  // A model the node lacks but can fetch passes here: the worker fetches it (Get), so that
  // no request thread waits on a download.
  DIM_RETURN_IF_ERROR(models_.CheckAvailable(task.model_id));
  for (const auto& id : task.model_ids) DIM_RETURN_IF_ERROR(models_.CheckAvailable(id));
  NodePolicy policy = options_.policy;
  Admission admission;
  if (options_.custody != nullptr) {
    DIM_ASSIGN_OR_RETURN(admission, options_.custody->Admit(task, ModelDigests(task)));
    policy.min_samples = admission.min_samples;
  }
  // Past the admission, a refusal frees what it reserved.
  const auto refuse = [&](Status s) {
    if (options_.custody != nullptr) options_.custody->Abandon(admission);
    return s;
  };
  if (Status s = CheckNodePolicy(policy, datasets_, task); !s.ok()) return refuse(s);

  std::lock_guard lock(mu_);
  if (stopping_) return refuse(Status::Unavailable("the node is shutting down"));
  if (auto it = tasks_.find(task.job_id); it != tasks_.end()) {
    const TaskState st = it->second->view.state;
    if (Live(st)) {
      return refuse({StatusCode::kAlreadyExists,
                     "task '" + task.job_id + "' is already " + std::string(TaskStateName(st))});
    }
    // A finished task with this id is replaced by the new one, which must not be trimmed
    // as if it were the old one.
    finished_bytes_ -= it->second->kept_bytes;
    tasks_.erase(it);
    std::erase(finished_order_, task.job_id);
  }
  if (queued_ >= options_.max_queued) {
    return refuse(Status::ResourceExhausted(
        "the node's queue is full (" + std::to_string(options_.max_queued) + " tasks waiting)"));
  }
  auto t = std::make_shared<Task>();
  t->priority = priority == Priority::kUnspecified ? Priority::kNormal : priority;
  t->seq = next_seq_++;
  t->view.job_id = task.job_id;
  t->view.state = TaskState::kQueued;
  t->spec = std::move(task);
  t->policy = policy;
  t->admission = admission;
  queue_.push(Order{t->priority, t->seq, t->spec.job_id});
  tasks_[t->spec.job_id] = t;
  ++queued_;
  cv_.notify_one();
  return Status::Ok();
}

DryRunVerdict TaskQueue::DryRun(NodeTask task) {
  DryRunVerdict v;
  const auto check = [&]() -> Status {
    if (!datasets_.Has(task.dataset)) return datasets_.Find(task.dataset).status();
    DIM_RETURN_IF_ERROR(models_.CheckAvailable(task.model_id));
    for (const auto& id : task.model_ids) DIM_RETURN_IF_ERROR(models_.CheckAvailable(id));
    NodePolicy policy = options_.policy;
    if (task.differential_privacy) v.epsilon = task.differential_privacy->epsilon;
    if (options_.custody != nullptr) {
      const DatasetPolicySummary budget = options_.custody->Summary(task.dataset);
      v.has_budget = budget.budget > 0;
      v.budget_left = std::max(0.0, budget.budget - budget.spent);
      DIM_ASSIGN_OR_RETURN(Admission a,
                           options_.custody->Admit(task, ModelDigests(task), /*reserve=*/false));
      policy.min_samples = a.min_samples;
    }
    return CheckNodePolicy(policy, datasets_, task);
  };
  v.refusal = check();
  return v;
}

std::vector<std::string> TaskQueue::ModelDigests(const NodeTask& task) {
  std::vector<std::string> out;
  for (const auto& id : TaskModels(task)) {
    auto digest = models_.Sha256(id);
    out.push_back(digest.ok() ? *digest : std::string());
  }
  return out;
}

TaskView TaskQueue::Snapshot(const Task& task) const {
  TaskView view = task.view;
  if (view.state == TaskState::kRunning) {
    view.rows_done = task.cancel->rows_done();
    view.rows_total = task.cancel->rows_total();
  }
  return view;
}

Result<TaskView> TaskQueue::Get(const std::string& job_id) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(job_id);
  if (it == tasks_.end()) return Status::NotFound("task '" + job_id + "' not found on this node");
  it->second->last_followed = std::chrono::steady_clock::now();
  if (!Live(it->second->view.state)) it->second->delivered = true;
  return Snapshot(*it->second);
}

Status TaskQueue::Cancel(const std::string& job_id) {
  std::vector<Call> calls;
  std::unique_lock lock(mu_);
  auto it = tasks_.find(job_id);
  if (it == tasks_.end()) return Status::NotFound("task '" + job_id + "' not found on this node");
  Task& t = *it->second;
  if (!Live(t.view.state)) {
    return Status::FailedPrecondition("task '" + job_id + "' already ended (" +
                                      std::string(TaskStateName(t.view.state)) + ")");
  }
  CancelLocked(t, "cancelled by request", calls);
  lock.unlock();
  for (auto& [done, view] : calls) done(view);
  return Status::Ok();
}

void TaskQueue::CancelLocked(Task& t, const std::string& why, std::vector<Call>& calls) {
  if (t.view.state == TaskState::kRunning) {
    t.cancel->Cancel();  // Finish records the end
    return;
  }
  --queued_;
  if (options_.custody != nullptr) options_.custody->Abandon(t.admission);
  t.view.state = TaskState::kCancelled;
  t.view.error = Status::Cancelled(why);
  t.view.completed_at = FormatIso8601(clock_.Now());
  finished_order_.push_back(t.view.job_id);
  TakeWaitersLocked(t.view, calls);
}

void TaskQueue::ScheduleAbandonCheckLocked(Task& t) {
  const auto check = t.last_followed + options_.abandon_after;
  if (abandon_checks_.empty() || check < abandon_checks_.begin()->first) timer_cv_.notify_all();
  abandon_checks_.emplace(check, t.view.job_id);
  t.check_pending = true;
}

void TaskQueue::AbandonIfUnfollowedLocked(const std::string& job_id, std::vector<Call>& calls) {
  auto it = tasks_.find(job_id);
  if (it == tasks_.end()) return;
  Task& t = *it->second;
  if (!t.check_pending) return;  // a task of the same id that has not been followed yet
  t.check_pending = false;
  // Ended, or followed now: the next waiter to go schedules the next look.
  if (!Live(t.view.state)) return;
  if (waiters_by_task_.count(job_id) > 0) return;
  if (std::chrono::steady_clock::now() - t.last_followed < options_.abandon_after) {
    ScheduleAbandonCheckLocked(t);  // a waiter came and went since this look was set
    return;
  }
  t.abandoned = true;
  CancelLocked(t, AbandonedReason(), calls);
}

std::string TaskQueue::AbandonedReason() const {
  return "abandoned: no one followed this task for " +
         FormatDuration(std::chrono::duration<double>(options_.abandon_after).count()) +
         " (the orchestrator that sent it restarted, or lost this node)";
}

TaskStats TaskQueue::Stats() const {
  std::lock_guard lock(mu_);
  TaskStats s;
  s.active = active_;
  s.queued = queued_;
  s.total = total_;
  s.successful = successful_;
  s.failed = failed_;
  s.avg_execution_seconds = total_ > 0 ? total_seconds_ / total_ : 0;
  return s;
}

void TaskQueue::WorkerLoop() {
  for (;;) {
    std::shared_ptr<Task> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      const Order next = queue_.top();
      queue_.pop();
      auto it = tasks_.find(next.id);
      // Skip entries of cancelled tasks, including one whose id was since submitted again:
      // that new task has its own entry, at its own priority.
      if (it == tasks_.end() || it->second->seq != next.seq ||
          it->second->view.state != TaskState::kQueued) {
        continue;
      }
      task = it->second;
      --queued_;
      ++active_;
      task->view.state = TaskState::kRunning;
      task->view.started_at = FormatIso8601(clock_.Now());
      task->started = std::chrono::steady_clock::now();
    }
    // Rows to go through, for the task's progress (a step may run several models on them).
    if (task->spec.input_rows) {
      task->cancel->SetRowsTotal(static_cast<int64_t>(task->spec.input_rows->rows()));
    } else if (auto d = datasets_.Find(task->spec.dataset); d.ok()) {
      task->cancel->SetRowsTotal(d->shape.rows);
    }
    Result<TaskResult> result =
        RunNodeTask(models_, datasets_, task->spec, *task->cancel, task->policy);
    // The document that leaves the node, made once, outside the queue's lock.
    std::string document;
    if (result.ok())
      document = DumpJson(TaskDocument(task->spec, *result, task->spec.rows_as_json));
    if (options_.custody != nullptr) {
      if (result.ok()) {
        // Completed only once recorded: what cannot be recorded is not released. The worker
        // goes on meanwhile; the ledger's thread finishes the task.
        {
          std::lock_guard lock(mu_);
          ++releasing_;
        }
        auto released = std::make_shared<TaskResult>(*std::move(result));
        std::string bytes = ReleasedBytes(task->spec, *released, document);
        options_.custody->ReleaseAsync(
            task->admission, task->spec, std::move(bytes), ResultRows(*released),
            ModelDigests(task->spec),
            [this, task, released, document = std::move(document)](core::Status recorded) {
              Finish(*task,
                     recorded.ok() ? Result<TaskResult>(std::move(*released))
                                   : Result<TaskResult>(recorded),
                     document);
              std::lock_guard lock(mu_);
              if (--releasing_ == 0) released_cv_.notify_all();
            });
        continue;
      }
      options_.custody->Abandon(task->admission);
    }
    Finish(*task, std::move(result), std::move(document));
  }
}

void TaskQueue::Finish(Task& task, Result<TaskResult> result, std::string document) {
  std::vector<Call> calls;
  std::unique_lock lock(mu_);
  --active_;
  ++total_;
  auto& v = task.view;
  v.completed_at = FormatIso8601(clock_.Now());
  v.rows_done = task.cancel->rows_done();
  v.rows_total = task.cancel->rows_total();
  v.execution_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - task.started).count();
  total_seconds_ += v.execution_seconds;
  if (result.ok()) {
    ++successful_;
    v.state = TaskState::kCompleted;
    v.result_json = std::move(document);
    v.rows_as_json = task.spec.rows_as_json;
    v.result = std::make_shared<const TaskResult>(*std::move(result));
  } else {
    ++failed_;
    v.state = EndedState(result.status());
    v.error = result.status();
    if (task.abandoned && v.state == TaskState::kCancelled) {
      v.error = Status::Cancelled(AbandonedReason());
    }
  }
  TakeWaitersLocked(v, calls);
  task.delivered = !calls.empty();
  task.kept_bytes = v.result_json.size();
  if (v.result) {
    if (const auto* step = std::get_if<StepOutput>(v.result.get()); step && step->rows) {
      task.kept_bytes += static_cast<size_t>(step->rows->size()) * sizeof(float);
    }
  }
  finished_bytes_ += task.kept_bytes;
  finished_order_.push_back(v.job_id);
  for (;;) {
    const bool over_count = finished_order_.size() > options_.keep_finished;
    const bool over_bytes =
        finished_bytes_ > options_.keep_finished_bytes && finished_order_.size() > 1;
    if (!over_count && !over_bytes) break;
    auto it = tasks_.find(finished_order_.front());
    if (!over_count && it != tasks_.end() && !it->second->delivered) break;  // not read yet
    if (it != tasks_.end() && !Live(it->second->view.state)) {
      finished_bytes_ -= it->second->kept_bytes;
      tasks_.erase(it);
    }
    finished_order_.pop_front();
  }
  TaskEnd end;
  if (options_.on_task_end) {
    const NodeTask& spec = task.spec;
    // The rows the worker set out to go through (the input's, or the dataset's as registered).
    end = TaskEnd{.job_id = v.job_id,
                  .kind = std::string(NodeTaskKindName(spec.kind)),
                  .dataset = spec.input_rows ? "client rows" : spec.dataset,
                  .model = spec.model_id,
                  .state = v.state,
                  .error = v.error,
                  .seconds = v.execution_seconds,
                  .rows = v.state == TaskState::kCompleted ? v.rows_total : 0};
  }
  // What the task read is not needed once it ended: only its view and result are kept.
  task.spec.input_rows.reset();
  lock.unlock();
  for (auto& [done, view] : calls) done(view);
  if (options_.on_task_end) options_.on_task_end(end);
}

Result<int64_t> TaskQueue::WaitForEnd(const std::string& job_id,
                                      std::chrono::steady_clock::time_point deadline,
                                      TaskWaiter done) {
  std::unique_lock lock(mu_);
  auto it = tasks_.find(job_id);
  if (it == tasks_.end()) return Status::NotFound("task '" + job_id + "' not found on this node");
  if (!Live(it->second->view.state) || stopping_) {
    if (!Live(it->second->view.state)) it->second->delivered = true;
    TaskView view = Snapshot(*it->second);
    lock.unlock();
    done(view);
    return int64_t{0};
  }
  const int64_t handle = next_waiter_++;
  waiters_.emplace(handle, Waiter{job_id, deadline, std::move(done)});
  waiters_by_task_.emplace(job_id, handle);
  const bool earliest = deadlines_.empty() || deadline < deadlines_.begin()->first;
  deadlines_.emplace(deadline, handle);
  if (earliest) timer_cv_.notify_all();
  return handle;
}

void TaskQueue::CancelWait(int64_t handle) {
  std::unique_lock lock(mu_);
  auto it = waiters_.find(handle);
  if (it == waiters_.end()) return;
  auto task = tasks_.find(it->second.job_id);
  Call call = TakeWaiterLocked(it, task != tasks_.end() ? Snapshot(*task->second) : TaskView{});
  lock.unlock();
  call.first(call.second);
}

TaskQueue::Call TaskQueue::TakeWaiterLocked(std::map<int64_t, Waiter>::iterator it,
                                            TaskView view) {
  const int64_t handle = it->first;
  auto [first, last] = waiters_by_task_.equal_range(it->second.job_id);
  for (auto j = first; j != last; ++j) {
    if (j->second == handle) {
      waiters_by_task_.erase(j);
      break;
    }
  }
  deadlines_.erase({it->second.deadline, handle});
  if (Live(view.state) && options_.abandon_after.count() > 0 &&
      waiters_by_task_.count(it->second.job_id) == 0) {
    if (auto task = tasks_.find(it->second.job_id); task != tasks_.end()) {
      task->second->last_followed = std::chrono::steady_clock::now();
      if (!task->second->check_pending) ScheduleAbandonCheckLocked(*task->second);
    }
  }
  Call call{std::move(it->second.done), std::move(view)};
  waiters_.erase(it);
  return call;
}

void TaskQueue::TakeWaitersLocked(const TaskView& view, std::vector<Call>& calls) {
  for (;;) {
    auto by_task = waiters_by_task_.find(view.job_id);
    if (by_task == waiters_by_task_.end()) return;
    calls.push_back(TakeWaiterLocked(waiters_.find(by_task->second), view));
  }
}

void TaskQueue::TimerLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (deadlines_.empty() && abandon_checks_.empty()) {
      timer_cv_.wait(lock);
      continue;
    }
    const auto max = std::chrono::steady_clock::time_point::max();
    const auto next_deadline = deadlines_.empty() ? max : deadlines_.begin()->first;
    const auto next_check = abandon_checks_.empty() ? max : abandon_checks_.begin()->first;
    const auto next = std::min(next_deadline, next_check);
    if (std::chrono::steady_clock::now() < next) {
      timer_cv_.wait_until(lock, next);
      continue;
    }
    std::vector<Call> calls;
    if (next_deadline <= next_check) {
      const int64_t handle = deadlines_.begin()->second;
      auto it = waiters_.find(handle);
      auto task = tasks_.find(it->second.job_id);
      calls.push_back(
          TakeWaiterLocked(it, task != tasks_.end() ? Snapshot(*task->second) : TaskView{}));
    } else {
      const std::string job_id = abandon_checks_.begin()->second;
      abandon_checks_.erase(abandon_checks_.begin());
      AbandonIfUnfollowedLocked(job_id, calls);
    }
    lock.unlock();
    for (auto& [done, view] : calls) done(view);
    lock.lock();
  }
}

}  // namespace dim::core
