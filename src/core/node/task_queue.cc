#include "core/node/task_queue.h"

#include "core/node/task_runner.h"

namespace dim::core {

TaskQueue::TaskQueue(ModelRepository& models, const DatasetCatalog& datasets, const Clock& clock,
                     TaskQueueOptions options)
    : models_(models), datasets_(datasets), clock_(clock), options_(options) {
  for (int i = 0; i < std::max(1, options_.max_concurrent); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

TaskQueue::~TaskQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& [id, t] : tasks_) t->cancel->Cancel();
  }
  cv_.notify_all();
  for (auto& w : workers_) w.join();
}

Status TaskQueue::Submit(NodeTask task, Priority priority) {
  // Fail fast, before queueing, on what the caller got wrong.
  if (!datasets_.Has(task.dataset)) return datasets_.Find(task.dataset).status();
  if (auto model = models_.Get(task.model_id); !model.ok()) return model.status();
  for (const auto& id : task.model_ids) {
    if (auto model = models_.Get(id); !model.ok()) return model.status();
  }
  DIM_RETURN_IF_ERROR(CheckNodePolicy(options_.policy, datasets_, task));

  std::lock_guard lock(mu_);
  if (stopping_) return Status::Unavailable("the node is shutting down");
  if (auto it = tasks_.find(task.job_id); it != tasks_.end()) {
    const auto& st = it->second->view.status;
    if (st == "queued" || st == "running") {
      return {StatusCode::kAlreadyExists, "task '" + task.job_id + "' is already " + st};
    }
    // A finished task with this id is replaced by the new one, which must not be trimmed
    // as if it were the old one.
    tasks_.erase(it);
    std::erase(finished_order_, task.job_id);
  }
  if (queued_ >= options_.max_queued) {
    return Status::ResourceExhausted("the node's queue is full (" +
                                     std::to_string(options_.max_queued) + " tasks waiting)");
  }
  auto t = std::make_shared<Task>();
  t->priority = priority == Priority::kUnspecified ? Priority::kNormal : priority;
  t->seq = next_seq_++;
  t->view.job_id = task.job_id;
  t->view.status = "queued";
  t->spec = std::move(task);
  queue_.push(Order{t->priority, t->seq, t->spec.job_id});
  tasks_[t->spec.job_id] = t;
  ++queued_;
  cv_.notify_one();
  return Status::Ok();
}

Result<TaskView> TaskQueue::Get(const std::string& job_id) const {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(job_id);
  if (it == tasks_.end()) return Status::NotFound("task '" + job_id + "' not found on this node");
  return it->second->view;
}

Status TaskQueue::Cancel(const std::string& job_id) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(job_id);
  if (it == tasks_.end()) return Status::NotFound("task '" + job_id + "' not found on this node");
  Task& t = *it->second;
  if (t.view.status == "queued") {
    --queued_;
    t.view.status = "cancelled";
    t.view.error = "cancelled by request";
    t.view.error_code = StatusCode::kCancelled;
    t.view.completed_at = FormatIso8601(clock_.Now());
    finished_order_.push_back(job_id);
    return Status::Ok();
  }
  if (t.view.status == "running") {
    t.cancel->Cancel();
    return Status::Ok();
  }
  return Status::FailedPrecondition("task '" + job_id + "' already ended (" + t.view.status + ")");
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
          it->second->view.status != "queued") {
        continue;
      }
      task = it->second;
      --queued_;
      ++active_;
      task->view.status = "running";
      task->view.started_at = FormatIso8601(clock_.Now());
      task->started = std::chrono::steady_clock::now();
    }
    auto document = RunNodeTask(models_, datasets_, task->spec, *task->cancel, options_.policy);
    Result<std::string> result = document.ok() ? Result<std::string>(document->dump())
                                               : Result<std::string>(document.status());
    Finish(*task, std::move(result));
  }
}

void TaskQueue::Finish(Task& task, Result<std::string> result) {
  std::lock_guard lock(mu_);
  --active_;
  ++total_;
  auto& v = task.view;
  v.completed_at = FormatIso8601(clock_.Now());
  v.execution_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - task.started).count();
  total_seconds_ += v.execution_seconds;
  if (result.ok()) {
    ++successful_;
    v.status = "completed";
    v.result_json = std::move(*result);
  } else {
    ++failed_;
    v.status = result.status().code() == StatusCode::kCancelled ? "cancelled" : "failed";
    v.error = result.status().message();
    v.error_code = result.status().code();
  }
  finished_order_.push_back(v.job_id);
  while (finished_order_.size() > options_.keep_finished) {
    auto it = tasks_.find(finished_order_.front());
    if (it != tasks_.end() && it->second->view.status != "queued" &&
        it->second->view.status != "running") {
      tasks_.erase(it);
    }
    finished_order_.pop_front();
  }
}

}  // namespace dim::core
