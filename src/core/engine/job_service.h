// The job engine behind the orchestrator and local mode: validates, stores, queues and runs
// jobs, and answers for them. Local mode and remote mode differ only in the NodeDirectory.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/job_types.h"
#include "core/node/cancel_token.h"
#include "core/node/node_client.h"
#include "core/patterns/node_runs.h"
#include "core/status.h"
#include "core/store/job_store.h"

namespace dim::core {

struct SubmitRequest {
  std::string user_id;
  Pattern pattern = Pattern::kUnspecified;
  std::string config_json;
  Priority priority = Priority::kNormal;
};

struct JobServiceOptions {
  int workers = 4;  // jobs run at once
  // Whether Start() takes over the store's unfinished jobs. Off where several processes
  // share one store (local mode), since another process may be running them.
  bool recover = true;
};

// Thread-safe. Start() before use; Stop() (or the destructor) before the store and the
// directory go away.
class JobService final {
 public:
  JobService(JobStore& store, NodeDirectory& nodes, const Clock& clock,
             JobServiceOptions options = {});
  ~JobService();
  JobService(const JobService&) = delete;
  JobService& operator=(const JobService&) = delete;

  // Recovers the store's unfinished jobs (PENDING ones are queued again; RUNNING ones are
  // FAILED with a reason, since their node tasks died with the previous process), then
  // starts the workers.
  [[nodiscard]] Status Start();
  // Stops taking work; running jobs are cancelled on their nodes and FAILED with a reason;
  // queued jobs stay PENDING in the store for the next start.
  void Stop();

  // Validates the config and chooses or checks the nodes (INVALID_ARGUMENT / NOT_FOUND with
  // the JSON path), stores the job PENDING and queues it. A collaborative job has one node
  // task per node, a comparative job one node task, a chained job one per step (its entry
  // in JobRecord::nodes follows the step to a fallback node).
  Result<JobRecord> Submit(const SubmitRequest& request);
  // NOT_FOUND when absent.
  Result<JobRecord> Get(const std::string& id);
  Result<JobPage> List(const JobQuery& query);
  // Cancels a pending or running job: its state is CANCELLED once stored. NOT_FOUND;
  // FAILED_PRECONDITION for a job that already ended.
  Result<JobRecord> Cancel(const std::string& id);
  // Blocks until the job ends or `timeout` passes (DEADLINE_EXCEEDED); returns the record.
  Result<JobRecord> Wait(const std::string& id, std::chrono::milliseconds timeout);

  NodeDirectory& nodes() { return nodes_; }

 private:
  struct Queued {
    Priority priority;
    int64_t seq;
    std::string id;
    bool operator<(const Queued& o) const {  // std::priority_queue pops the largest
      if (priority != o.priority) return priority < o.priority;
      return seq > o.seq;
    }
  };

  void WorkerLoop();
  void RunJob(const std::string& id);
  // The job's pattern on its nodes; the result document, or why the job did not complete
  // (and then, in *failed_result, what the pattern reports of a job that did not complete,
  // if anything: a pipeline's trace).
  Result<nlohmann::json> RunPattern(const JobRecord& job, const std::vector<std::string>& node_ids,
                                    const CancelToken& cancel, const NodeUpdateFn& on_update,
                                    nlohmann::json* failed_result);
  // Stores a change made to the running job's record under mu_ and wakes waiters.
  void Save(const JobRecord& record);
  std::string NewJobId();

  JobStore& store_;
  NodeDirectory& nodes_;
  const Clock& clock_;
  JobServiceOptions options_;

  std::mutex mu_;
  std::condition_variable queue_cv_;
  std::condition_variable changed_cv_;
  std::priority_queue<Queued> queue_;
  std::map<std::string, std::shared_ptr<CancelToken>> running_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace dim::core
