// Local mode: nodes that live in this process, each with its own datasets and model folder.
// A node runs its tasks through its own TaskQueue, as a daemon does, so that local and
// remote mode differ only in the transport: the same priorities, limits and early checks
// (dataset, models, the node's policy) before a task runs.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/node_client.h"
#include "core/node/task_queue.h"

namespace dim::core {

class InProcessNode final : public NodeClient {
 public:
  // options: the node's queue, as a daemon's (--max-concurrent-jobs, --max-queued, its
  // policy: local mode uses the defaults, min_samples 10).
  // `custody`: the node's site policy and ledger (null: none), as a daemon's --policy.
  InProcessNode(std::string id, std::shared_ptr<ModelRepository> models, DatasetCatalog datasets,
                TaskQueueOptions options = DefaultOptions(),
                std::shared_ptr<NodeCustody> custody = nullptr);
  // Tasks still followed are reported CANCELLED.
  ~InProcessNode() override;

  // Queues the task on the node's TaskQueue and reports its end without holding a thread:
  // the queue's callbacks follow it, looking at `cancel` every kCancelPoll (a raised one
  // cancels the task at its next batch). The engine enforces the job's time limit.
  bool StartTask(const NodeTask& task, const CancelToken& cancel, std::chrono::milliseconds timeout,
                 TaskDone& done) override;
  Result<DryRunVerdict> DryRun(const NodeTask& task) override { return queue_.DryRun(task); }
  // StartTask, waiting for its end on the calling thread.
  Result<TaskResult> RunTask(const NodeTask& task, const CancelToken& cancel,
                             std::chrono::milliseconds timeout) override;
  NodeDescription Describe() const;

  // How often a task's follower looks at the job's cancel token.
  static constexpr std::chrono::milliseconds kCancelPoll{50};
  // A queue of as many workers as the machine has cores, 256 waiting tasks, no abandonment.
  static TaskQueueOptions DefaultOptions();

 private:
  struct Follow;
  // Asks the queue for the task's end (or its view at the next cancel poll).
  void Wait(std::shared_ptr<Follow> follow);

  std::string id_;
  std::shared_ptr<ModelRepository> models_;
  DatasetCatalog datasets_;
  SystemClock clock_;
  int max_concurrent_;
  std::atomic<bool> closing_{false};
  std::shared_ptr<NodeCustody> custody_;
  // Declared last: destroyed first, cancelling and joining its tasks while the rest lives.
  TaskQueue queue_;
};

class InProcessDirectory final : public NodeDirectory {
 public:
  // INVALID_ARGUMENT when the id is taken.
  [[nodiscard]] Status Add(std::string id, std::shared_ptr<InProcessNode> node);
  Result<std::shared_ptr<NodeClient>> Client(const std::string& node_id) override;
  std::vector<NodeDescription> Describe() override;

 private:
  std::map<std::string, std::shared_ptr<InProcessNode>> nodes_;
};

}  // namespace dim::core
