#include "core/engine/job_service.h"

#include <random>

#include "core/job/chained_config.h"
#include "core/job/collaborative_config.h"
#include "core/job/comparative_config.h"
#include "core/patterns/chained.h"
#include "core/patterns/collaborative.h"
#include "core/patterns/comparative.h"

namespace dim::core {
namespace {

constexpr char kRestartReason[] =
    "the orchestrator stopped while this job was running; submit it again";

}  // namespace

JobService::JobService(JobStore& store, NodeDirectory& nodes, const Clock& clock,
                       JobServiceOptions options)
    : store_(store), nodes_(nodes), clock_(clock), options_(options) {}

JobService::~JobService() { Stop(); }

Status JobService::Start() {
  std::vector<JobRecord> unfinished;
  if (options_.recover) {
    DIM_ASSIGN_OR_RETURN(unfinished, store_.ListInStates({JobState::kPending, JobState::kRunning}));
  }
  std::lock_guard lock(mu_);
  for (auto& job : unfinished) {
    if (job.state == JobState::kRunning) {
      job.state = JobState::kFailed;
      job.error = kRestartReason;
      job.completed_at = FormatIso8601(clock_.Now());
      DIM_RETURN_IF_ERROR(store_.Update(job));
    } else {
      queue_.push(Queued{job.priority, job.seq, job.id});
    }
  }
  stopping_ = false;
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  return Status::Ok();
}

void JobService::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    for (auto& [id, token] : running_) token->Cancel();
  }
  queue_cv_.notify_all();
  changed_cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

std::string JobService::NewJobId() {
  // Time-ordered and unguessable: "job-" + 10 hex digits of milliseconds + 10 random ones.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      clock_.Now().time_since_epoch())
                      .count();
  char buf[40];
  std::snprintf(buf, sizeof buf, "job-%010llx%010llx",
                static_cast<unsigned long long>(ms) & 0xffffffffffULL,
                static_cast<unsigned long long>(rng()) & 0xffffffffffULL);
  return buf;
}

Result<JobRecord> JobService::Submit(const SubmitRequest& request) {
  JobRecord job;
  job.user_id = request.user_id;
  job.pattern = request.pattern;
  job.priority = request.priority == Priority::kUnspecified ? Priority::kNormal : request.priority;
  switch (request.pattern) {
    case Pattern::kCollaborative: {
      DIM_ASSIGN_OR_RETURN(CollaborativeConfig config,
                           ParseCollaborativeConfig(request.config_json));
      DIM_ASSIGN_OR_RETURN(auto chosen, SelectCollaborativeNodes(config, nodes_));
      job.config_json = CollaborativeConfigToJson(config).dump();
      job.total_steps = static_cast<int>(chosen.size());
      for (const auto& id : chosen) {
        NodeTaskRecord node;
        node.node_id = id;
        job.nodes.push_back(std::move(node));
      }
      break;
    }
    case Pattern::kComparative: {
      DIM_ASSIGN_OR_RETURN(ComparativeConfig config, ParseComparativeConfig(request.config_json));
      DIM_ASSIGN_OR_RETURN(std::string node_id, SelectComparativeNode(config, nodes_));
      job.config_json = ComparativeConfigToJson(config).dump();
      job.total_steps = 1;
      NodeTaskRecord node;
      node.node_id = std::move(node_id);
      job.nodes.push_back(std::move(node));
      break;
    }
    case Pattern::kChained: {
      DIM_ASSIGN_OR_RETURN(ChainedConfig config, ParseChainedConfig(request.config_json));
      DIM_RETURN_IF_ERROR(CheckChainedNodes(config, nodes_));
      job.config_json = ChainedConfigToJson(config).dump();
      job.total_steps = static_cast<int>(config.steps.size());
      for (const auto& step : config.steps) {
        NodeTaskRecord node;
        node.node_id = step.node_id;
        job.nodes.push_back(std::move(node));
      }
      break;
    }
    case Pattern::kUnspecified:
      return Status::InvalidArgument("pattern: must be collaborative, comparative or chained");
  }
  job.state = JobState::kPending;
  job.created_at = FormatIso8601(clock_.Now());
  std::lock_guard lock(mu_);
  if (stopping_) return Status::Unavailable("the job service is shutting down");
  for (int attempt = 0;; ++attempt) {
    job.id = NewJobId();
    Status s = store_.Insert(&job);
    if (s.ok()) break;
    if (s.code() != StatusCode::kAlreadyExists || attempt > 3) return s;
  }
  queue_.push(Queued{job.priority, job.seq, job.id});
  queue_cv_.notify_one();
  return job;
}

Result<JobRecord> JobService::Get(const std::string& id) { return store_.Get(id); }

Result<JobPage> JobService::List(const JobQuery& query) { return store_.List(query); }

Result<JobRecord> JobService::Cancel(const std::string& id) {
  std::lock_guard lock(mu_);
  DIM_ASSIGN_OR_RETURN(JobRecord job, store_.Get(id));
  if (IsTerminal(job.state)) {
    return Status::FailedPrecondition("job '" + id + "' already ended (" +
                                      std::string(JobStateName(job.state)) + ")");
  }
  job.state = JobState::kCancelled;
  job.error = "cancelled by request";
  job.completed_at = FormatIso8601(clock_.Now());
  for (auto& n : job.nodes) {
    if (n.status == "pending" || n.status == "running") n.status = "cancelled";
  }
  DIM_RETURN_IF_ERROR(store_.Update(job));
  if (auto it = running_.find(id); it != running_.end()) it->second->Cancel();
  changed_cv_.notify_all();
  return job;
}

Result<JobRecord> JobService::Wait(const std::string& id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    DIM_ASSIGN_OR_RETURN(JobRecord job, store_.Get(id));
    if (IsTerminal(job.state)) return job;
    if (std::chrono::steady_clock::now() >= deadline) {
      return Status::DeadlineExceeded("job '" + id + "' is still " +
                                      std::string(JobStateName(job.state)));
    }
    changed_cv_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() +
                                                        std::chrono::milliseconds(200)));
  }
}

void JobService::WorkerLoop() {
  for (;;) {
    std::string id;
    {
      std::unique_lock lock(mu_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      id = queue_.top().id;
      queue_.pop();
    }
    RunJob(id);
  }
}

void JobService::Save(const JobRecord& record) {
  // A store failure here cannot be reported to anyone: the record in memory stays right
  // and the next successful write carries it.
  (void)store_.Update(record);
  changed_cv_.notify_all();
}

Result<nlohmann::json> JobService::RunPattern(const JobRecord& job,
                                              const std::vector<std::string>& node_ids,
                                              const CancelToken& cancel,
                                              const NodeUpdateFn& on_update,
                                              nlohmann::json* failed_result) {
  switch (job.pattern) {
    case Pattern::kCollaborative: {
      DIM_ASSIGN_OR_RETURN(CollaborativeConfig config, ParseCollaborativeConfig(job.config_json));
      return RunCollaborative(job.id, config, node_ids, nodes_, cancel, clock_, on_update);
    }
    case Pattern::kComparative: {
      DIM_ASSIGN_OR_RETURN(ComparativeConfig config, ParseComparativeConfig(job.config_json));
      if (node_ids.size() != 1) {
        return Status::Internal("a comparative job has one node task, this one has " +
                                std::to_string(node_ids.size()));
      }
      return RunComparative(job.id, config, node_ids[0], nodes_, cancel, clock_, on_update);
    }
    case Pattern::kChained: {
      DIM_ASSIGN_OR_RETURN(ChainedConfig config, ParseChainedConfig(job.config_json));
      return RunChained(job.id, config, nodes_, cancel, clock_, on_update, failed_result);
    }
    default:
      return Status::InvalidArgument("job '" + job.id + "' has no pattern");
  }
}

void JobService::RunJob(const std::string& id) {
  auto token = std::make_shared<CancelToken>();
  JobRecord job;
  {
    std::lock_guard lock(mu_);
    auto loaded = store_.Get(id);
    if (!loaded.ok() || loaded->state != JobState::kPending) return;  // e.g. cancelled
    job = std::move(*loaded);
    job.state = JobState::kRunning;
    job.started_at = FormatIso8601(clock_.Now());
    Save(job);
    running_[id] = token;
  }

  // Per-node progress goes to the store as it happens; the job's final state comes after.
  auto on_update = [&](size_t index, const NodeTaskRecord& node) {
    std::lock_guard lock(mu_);
    if (index < job.nodes.size()) job.nodes[index] = node;
    int done = 0;
    for (auto& n : job.nodes) {
      if (n.status == "completed" || n.status == "failed" || n.status == "cancelled") ++done;
    }
    job.completed_steps = done;
    // Cancel() raises the token under mu_ when it stores the job CANCELLED (as does Stop());
    // after that the record must not be overwritten with RUNNING progress.
    if (!token->cancelled()) Save(job);
  };

  std::vector<std::string> node_ids;
  for (const auto& n : job.nodes) node_ids.push_back(n.node_id);
  nlohmann::json failed_result;
  Result<nlohmann::json> result = RunPattern(job, node_ids, *token, on_update, &failed_result);

  std::lock_guard lock(mu_);
  running_.erase(id);
  auto current = store_.Get(id);
  if (current.ok() && current->state == JobState::kCancelled) return;  // Cancel() stored it
  job.completed_at = FormatIso8601(clock_.Now());
  if (result.ok()) {
    job.state = JobState::kCompleted;
    job.result_json = result->dump();
  } else if (token->cancelled() && stopping_) {
    job.state = JobState::kFailed;
    job.error = kRestartReason;
  } else if (result.status().code() == StatusCode::kCancelled) {
    job.state = JobState::kCancelled;
    job.error = result.status().message();
  } else {
    job.state = JobState::kFailed;
    job.error = result.status().message();
  }
  // A pattern may leave a document for a job that did not complete (a pipeline's trace).
  if (!result.ok() && !failed_result.is_null()) job.result_json = failed_result.dump();
  Save(job);
}

}  // namespace dim::core
