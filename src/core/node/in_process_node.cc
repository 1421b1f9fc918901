#include "core/node/in_process_node.h"

#include <algorithm>
#include <thread>

#include "core/models/model_ref.h"
#include "core/text.h"

namespace dim::core {

// One task being followed: what StartTask was given, kept until the end is reported.
struct InProcessNode::Follow {
  std::string task_id;
  const CancelToken* cancel;
  TaskDone done;
  bool cancel_sent = false;
};

namespace {

// What left the node, as RunTask reports it: the task's result, or why there is none. The
// result is passed as it is, never serialised.
Result<TaskResult> EndOf(const TaskView& view) {
  if (view.state == TaskState::kCompleted) {
    if (!view.result) return Status::Internal("the node's completed task has no result");
    return *view.result;
  }
  if (view.error.ok()) {
    return view.state == TaskState::kCancelled ? Status::Cancelled("task cancelled")
                                               : Status::Internal("the node's task failed");
  }
  return view.error;
}

}  // namespace

namespace {

TaskQueueOptions WithCustody(TaskQueueOptions options, NodeCustody* custody) {
  options.custody = custody;
  return options;
}

}  // namespace

TaskQueueOptions InProcessNode::DefaultOptions() {
  TaskQueueOptions options;
  options.max_concurrent = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.max_queued = 256;
  return options;
}

InProcessNode::InProcessNode(std::string id, std::shared_ptr<ModelRepository> models,
                             DatasetCatalog datasets, TaskQueueOptions options,
                             std::shared_ptr<NodeCustody> custody)
    : id_(std::move(id)),
      models_(std::move(models)),
      datasets_(std::move(datasets)),
      max_concurrent_(options.max_concurrent),
      custody_(std::move(custody)),
      queue_(*models_, datasets_, clock_, WithCustody(options, custody_.get())) {}

InProcessNode::~InProcessNode() { closing_ = true; }

bool InProcessNode::StartTask(const NodeTask& task, const CancelToken& cancel,
                              std::chrono::milliseconds /*timeout*/, TaskDone& done) {
  auto follow = std::make_shared<Follow>(Follow{task.job_id, &cancel, std::move(done), false});
  if (Status queued = queue_.Submit(task, task.priority); !queued.ok()) {
    follow->done(queued);
    return true;
  }
  Wait(std::move(follow));
  return true;
}

void InProcessNode::Wait(std::shared_ptr<Follow> follow) {
  const auto next_look = std::chrono::steady_clock::now() + kCancelPoll;
  auto waiting =
      queue_.WaitForEnd(follow->task_id, next_look, [this, follow](const TaskView& view) {
        if (IsEnded(view.state)) {
          follow->done(EndOf(view));
          return;
        }
        if (closing_) {  // the queue is going: its waiters are answered as it stops
          follow->done(Status::Cancelled("node '" + id_ + "' is shutting down"));
          return;
        }
        if (follow->cancel->cancelled() && !follow->cancel_sent) {
          follow->cancel_sent = true;
          (void)queue_.Cancel(follow->task_id);  // its end comes to the next wait
        }
        Wait(follow);
      });
  // NOT_FOUND: the queue forgot the task (it keeps thousands of finished ones), or is gone.
  if (!waiting.ok()) follow->done(waiting.status());
}

Result<TaskResult> InProcessNode::RunTask(const NodeTask& task, const CancelToken& cancel,
                                          std::chrono::milliseconds timeout) {
  return RunStartedTask(task, cancel, timeout);
}

NodeDescription InProcessNode::Describe() const {
  NodeDescription d;
  d.id = id_;
  d.source = "local";
  d.described = true;
  d.datasets = datasets_.entries();
  d.models = models_->List();
  const TaskStats stats = queue_.Stats();
  d.active_jobs = stats.active;
  d.queued_jobs = stats.queued;
  d.max_concurrent_jobs = max_concurrent_;
  // Models by content: a file of the folder whose sha256 is the id's.
  d.can_get_model = [models = models_](const std::string& id) {
    return Sha256OfModelId(id) && models->CheckAvailable(id).ok();
  };
  return d;
}

Status InProcessDirectory::Add(std::string id, std::shared_ptr<InProcessNode> node) {
  if (nodes_.count(id)) return Status::InvalidArgument("node '" + id + "' given twice");
  nodes_.emplace(std::move(id), std::move(node));
  return Status::Ok();
}

Result<std::shared_ptr<NodeClient>> InProcessDirectory::Client(const std::string& node_id) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return Status::NotFound("node '" + node_id + "' not found");
  return std::shared_ptr<NodeClient>(it->second);
}

std::vector<NodeDescription> InProcessDirectory::Describe() {
  std::vector<NodeDescription> out;
  for (const auto& [id, node] : nodes_) out.push_back(node->Describe());
  return out;
}

}  // namespace dim::core
