#include "core/engine/job_service.h"

#include <algorithm>
#include <optional>
#include <random>

#include "core/job/chained_config.h"
#include "core/job/collaborative_config.h"
#include "core/job/comparative_config.h"
#include "core/patterns/chained.h"
#include "core/patterns/collaborative.h"
#include "core/patterns/comparative.h"
#include "core/text.h"

namespace dim::core {
namespace {

constexpr char kRestartReason[] =
    "the orchestrator stopped while this job was running; submit it again";
// Pending jobs with a larger config are read back from the store when they start, so that a
// full queue of them does not have to fit in memory.
constexpr size_t kMaxConfigKeptBytes = 64 * 1024;
// Idle node-task threads kept for reuse, per worker: enough for the node tasks of as many
// jobs of a few nodes each; a job over more nodes starts threads that end with it.
constexpr size_t kIdleThreadsPerWorker = 4;

// A job's view of the nodes: its tasks carry the job's priority (for the nodes' queues) and
// its user (for the nodes' policies).
class JobNode final : public NodeClient {
 public:
  JobNode(std::shared_ptr<NodeClient> node, const JobRecord& job)
      : node_(std::move(node)), priority_(job.priority), user_id_(job.user_id) {}
  Result<TaskResult> RunTask(const NodeTask& task, const CancelToken& cancel,
                             std::chrono::milliseconds timeout) override {
    return node_->RunTask(ForJob(task), cancel, timeout);
  }
  bool StartTask(const NodeTask& task, const CancelToken& cancel,
                 std::chrono::milliseconds timeout, TaskDone& done) override {
    return node_->StartTask(ForJob(task), cancel, timeout, done);
  }

 private:
  NodeTask ForJob(const NodeTask& task) const {
    NodeTask for_job = task;
    for_job.priority = priority_;
    for_job.user_id = user_id_;
    return for_job;
  }

  std::shared_ptr<NodeClient> node_;
  Priority priority_;
  std::string user_id_;
};

// A job's directory: its node tasks carry its priority and user, and run on the service's
// threads.
class JobNodes final : public NodeDirectory {
 public:
  JobNodes(NodeDirectory& nodes, const JobRecord& job, ThreadPool& threads)
      : nodes_(nodes), job_(job), threads_(threads) {}
  Result<std::shared_ptr<NodeClient>> Client(const std::string& node_id) override {
    DIM_ASSIGN_OR_RETURN(auto node, nodes_.Client(node_id));
    return std::shared_ptr<NodeClient>(std::make_shared<JobNode>(std::move(node), job_));
  }
  std::vector<NodeDescription> Describe() override { return nodes_.Describe(); }
  void RecordTaskOutcome(const std::string& node_id, const Status& status) override {
    nodes_.RecordTaskOutcome(node_id, status);
  }
  void StartThread(std::function<void()> work) override { threads_.Run(std::move(work)); }

 private:
  NodeDirectory& nodes_;
  const JobRecord& job_;
  ThreadPool& threads_;
};

// A job's node entries, before any of its tasks ran.
std::vector<NodeTaskRecord> NodeRecords(const std::vector<std::string>& node_ids) {
  std::vector<NodeTaskRecord> nodes(node_ids.size());
  for (size_t i = 0; i < node_ids.size(); ++i) nodes[i].node_id = node_ids[i];
  return nodes;
}

template <typename T>
std::optional<T> ToOptional(Result<T> result) {
  if (!result.ok()) return std::nullopt;
  return *std::move(result);
}

// A site's --max-config-bytes, for Submit and DryRun alike.
Status CheckConfigSize(const std::string& config_json, size_t max_bytes) {
  if (config_json.size() <= max_bytes) return Status::Ok();
  return Status::InvalidArgument("config_json: " + std::to_string(config_json.size()) +
                                 " bytes; this orchestrator takes at most " +
                                 std::to_string(max_bytes) + " (--max-config-bytes)");
}

}  // namespace

JobService::JobService(JobStore& store, NodeDirectory& nodes, const Clock& clock,
                       JobServiceOptions options)
    : store_(store),
      nodes_(nodes),
      clock_(clock),
      options_(options),
      node_threads_(static_cast<size_t>(std::max(1, options.workers)) * kIdleThreadsPerWorker) {}

JobService::~JobService() { Stop(); }

Status JobService::Start() {
  std::vector<JobRecord> unfinished;
  if (options_.recover) {
    DIM_ASSIGN_OR_RETURN(unfinished, store_.ListInStates({JobState::kPending, JobState::kRunning}));
  }
  std::vector<JobEventNotice> notices;
  std::unique_lock lock(mu_);
  for (auto& job : unfinished) {
    if (job.state == JobState::kRunning) {
      job.state = JobState::kFailed;
      job.error = kRestartReason;
      job.completed_at = FormatIso8601(clock_.Now());
      AddEvent(job, JobEventKind::kEnded, "", "FAILED: " + job.error, &notices);
      DIM_RETURN_IF_ERROR(store_.Update(job));
    } else {
      // Listed without their rows: a pipeline is read back from the store when it starts.
      QueueLocked(job, /*complete=*/job.pattern != Pattern::kChained);
    }
  }
  stopping_ = false;
  // Only a restart waits for nodes: a store without jobs is a first start, where a job naming
  // an unknown node is a mistake to report at once.
  bool restarted = !unfinished.empty();
  if (!restarted && options_.node_grace.count() > 0) {
    JobQuery first;
    first.limit = 1;
    auto any = store_.List(first);
    restarted = any.ok() && any->total > 0;
  }
  grace_until_ = std::chrono::steady_clock::now() +
                 (restarted ? options_.node_grace : std::chrono::milliseconds(0));
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
  lock.unlock();
  Tell(notices);
  return Status::Ok();
}

JobService::Counts JobService::CountNow() {
  std::lock_guard lock(mu_);
  return Counts{.queued = static_cast<int64_t>(pending_.size()),
                .running = static_cast<int64_t>(running_.size())};
}

void JobService::AddEvent(JobRecord& job, JobEventKind kind, std::string node_id,
                          std::string detail, std::vector<JobEventNotice>* notices, double seconds,
                          TaskState task_state) {
  JobEvent event{FormatIso8601(clock_.Now()), kind, std::move(node_id), std::move(detail)};
  if (kind == JobEventKind::kEnded) {
    if (auto created = ParseIso8601(job.created_at)) {
      seconds = std::chrono::duration<double>(clock_.Now() - *created).count();
    }
  }
  if (notices != nullptr && options_.observer != nullptr) {
    notices->push_back(
        JobEventNotice{job.id, job.pattern, job.state, event, std::max(0.0, seconds), task_state});
  }
  AppendJobEvent(job.events, std::move(event));
}

void JobService::AddTaskEvents(JobRecord& job, const NodeTaskRecord& before,
                               const NodeTaskRecord& after, std::vector<JobEventNotice>* notices) {
  if (after.state == before.state && after.node_id == before.node_id) return;
  if (after.state == TaskState::kRunning) {
    if (!before.node_id.empty() && before.node_id != after.node_id) {
      AddEvent(job, JobEventKind::kFellBack, after.node_id, "from " + before.node_id, notices);
    } else if (before.state != TaskState::kPending) {
      AddEvent(job, JobEventKind::kTaskRetried, after.node_id,
               "after: " + std::string(TaskStateName(before.state)), notices);
    }
    AddEvent(job, JobEventKind::kTaskStarted, after.node_id, "", notices);
    return;
  }
  if (after.state == TaskState::kPending) return;
  std::string detail(TaskStateName(after.state));
  if (after.state != TaskState::kSkipped)
    detail += " in " + FormatDuration(after.execution_seconds);
  if (!after.error.ok()) detail += ": " + after.error.ToString();
  AddEvent(job, JobEventKind::kTaskEnded, after.node_id, std::move(detail), notices,
           after.execution_seconds, after.state);
}

void JobService::Tell(const std::vector<JobEventNotice>& notices) {
  if (options_.observer == nullptr) return;
  for (const auto& notice : notices) options_.observer->OnJobEvent(notice);
}

void JobService::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
    for (auto& [id, job] : running_) job.token->Cancel();
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

Result<JobRecord> JobService::NewJob(const SubmitRequest& request, const ClientData* input_rows,
                                     bool streamed) {
  JobRecord job;
  job.user_id = request.user_id;
  job.pattern = request.pattern;
  job.priority = request.priority == Priority::kUnspecified ? Priority::kNormal : request.priority;
  DIM_RETURN_IF_ERROR(CheckConfigSize(request.config_json, options_.max_config_bytes));
  DIM_ASSIGN_OR_RETURN(
      JobPlan plan, Plan(request.pattern, request.config_json,
                         input_rows != nullptr ? input_rows : request.input_rows.get(), streamed));
  job.input_rows = request.input_rows;
  if (const size_t n = std::max(plan.node_ids.size(), plan.named_ids.size());
      n > options_.max_nodes_per_job) {
    return Status::InvalidArgument("nodes: " + std::to_string(n) +
                                   " nodes; this orchestrator runs a job on at most " +
                                   std::to_string(options_.max_nodes_per_job) +
                                   " (--max-nodes-per-job)");
  }
  job.config_json = std::move(plan.config_json);
  if (plan.nodes_status.ok()) {
    job.nodes = NodeRecords(plan.node_ids);
    job.total_steps = static_cast<int>(job.nodes.size());
  } else {
    // Just after a restart the nodes may not have been heard from yet: the job waits for
    // them, and its nodes are checked (or chosen) when it starts (total_steps 0 says so).
    if (!InGrace()) return plan.nodes_status;
    job.nodes = NodeRecords(plan.named_ids);
    job.total_steps = 0;
  }
  job.state = JobState::kPending;
  return job;
}

Status JobService::CheckQueueRoom() {
  std::lock_guard lock(mu_);
  if (stopping_) return Status::Unavailable("the job service is shutting down");
  // Checked before the insert, which runs unlocked: concurrent submits may overshoot the
  // limit by their number, no more.
  if (pending_.size() >= static_cast<size_t>(std::max(1, options_.max_queued))) {
    return Status::ResourceExhausted("the orchestrator's queue is full (" +
                                     std::to_string(pending_.size()) +
                                     " jobs waiting); submit again later");
  }
  return Status::Ok();
}

Result<JobRecord> JobService::Submit(const SubmitRequest& request) {
  DIM_ASSIGN_OR_RETURN(JobRecord job, NewJob(request, nullptr, /*streamed=*/false));
  return Enqueue(std::move(job));
}

Result<JobRecord> JobService::Enqueue(JobRecord job) {
  job.created_at = FormatIso8601(clock_.Now());
  std::vector<JobEventNotice> notices;
  AddEvent(job, JobEventKind::kSubmitted, "", job.user_id.empty() ? "" : "by " + job.user_id,
           &notices);
  AddEvent(job, JobEventKind::kQueued, "", "priority " + std::string(PriorityName(job.priority)),
           &notices);
  DIM_RETURN_IF_ERROR(CheckQueueRoom());
  if (!job.id.empty()) {
    DIM_RETURN_IF_ERROR(store_.Insert(&job));
  } else {
    for (int attempt = 0;; ++attempt) {
      job.id = NewJobId();
      Status s = store_.Insert(&job);
      if (s.ok()) break;
      if (s.code() != StatusCode::kAlreadyExists || attempt > 3) return s;
    }
  }
  // Stored PENDING, so acknowledged even if Stop() came meanwhile: the next Start() runs it.
  {
    std::lock_guard lock(mu_);
    QueueLocked(job);
    queue_cv_.notify_one();
  }
  for (auto& notice : notices) notice.job_id = job.id;  // chosen after the events
  Tell(notices);
  return job;
}

Result<std::unique_ptr<RowUpload>> JobService::BeginUpload(SubmitRequest request) {
  if (request.input_rows) return Status::InvalidArgument("input_rows: sent with the chunks");
  if (request.pattern != Pattern::kChained) {
    return Status::InvalidArgument("input_rows: only a chained job takes rows");
  }
  DIM_RETURN_IF_ERROR(CheckConfigSize(request.config_json, options_.max_config_bytes));
  DIM_RETURN_IF_ERROR(CheckQueueRoom());
  return std::unique_ptr<RowUpload>(new RowUpload(*this, std::move(request), NewJobId()));
}

Result<ClientData> JobService::OutputChunk(const std::string& id, int64_t seq) {
  return store_.GetRowChunk(id, 1, seq);
}

Result<JobRecord> JobService::SubmitStreamed(SubmitRequest request, const RowSource& next) {
  DIM_ASSIGN_OR_RETURN(std::unique_ptr<RowUpload> upload, BeginUpload(std::move(request)));
  for (;;) {
    DIM_ASSIGN_OR_RETURN(std::optional<ClientData> rows, next());
    if (!rows) break;
    DIM_RETURN_IF_ERROR(upload->Add(*rows));
  }
  return upload->Finish();
}

Status JobService::ReadOutputRows(const JobRecord& job, const RowSink& sink) {
  if (job.output_stream) {
    for (int64_t seq = 0; seq < job.output_stream->chunks; ++seq) {
      DIM_ASSIGN_OR_RETURN(ClientData chunk, OutputChunk(job.id, seq));
      DIM_RETURN_IF_ERROR(sink(chunk));
    }
    return Status::Ok();
  }
  if (job.output_rows) return sink(*job.output_rows);
  return Status::FailedPrecondition("job '" + job.id + "' has no output rows");
}

namespace {

// The rows' width and names, without their numbers: what a config is checked against.
ClientData ShapeOf(const RowStream& stream) {
  ClientData shape;
  shape.columns = stream.columns;
  shape.width = stream.width;
  return shape;
}

// A job's streamed rows in the store, for RunChainedOverChunks: its input read chunk by
// chunk, its output stored in chunks of at most kMaxClientValues numbers.
class StoredChunks final : public ChunkedRows {
 public:
  StoredChunks(JobStore& store, const std::string& id, const RowStream& input)
      : store_(store), id_(id), input_(input) {}

  int64_t input_chunks() const override { return input_.chunks; }
  int64_t input_rows() const override { return input_.rows; }

  Result<ClientData> ReadInput(int64_t seq) override {
    DIM_ASSIGN_OR_RETURN(ClientData chunk, store_.GetRowChunk(id_, 0, seq));
    if (chunk.width != input_.width || chunk.rows < 1) {
      return Status(StatusCode::kDataLoss, "input rows chunk " + std::to_string(seq) +
                                               " is not of the job's width " +
                                               std::to_string(input_.width));
    }
    return chunk;
  }

  Status AppendOutput(const Matrix& rows) override {
    if (rows.rows() == 0) return Status::Ok();
    const int64_t width = rows.cols();
    if (output_.chunks > 0 && width != output_.width) {
      return Status::Internal("output rows of width " + std::to_string(width) + " after " +
                              std::to_string(output_.width));
    }
    output_.width = width;
    const int64_t per_chunk = std::max<int64_t>(1, kMaxClientValues / std::max<int64_t>(1, width));
    for (int64_t at = 0; at < rows.rows(); at += per_chunk) {
      const int64_t n = std::min<int64_t>(per_chunk, rows.rows() - at);
      ClientData chunk;
      chunk.rows = n;
      chunk.width = width;
      chunk.values.resize(static_cast<size_t>(n * width));
      Eigen::Map<Matrix>(chunk.values.data(), n, width) = rows.middleRows(at, n);
      DIM_RETURN_IF_ERROR(store_.PutRowChunk(id_, 1, output_.chunks, chunk));
      output_.chunks += 1;
      output_.rows += n;
    }
    return Status::Ok();
  }

  const RowStream& output() const { return output_; }

 private:
  JobStore& store_;
  const std::string& id_;
  const RowStream& input_;
  RowStream output_;
};

}  // namespace

RowUpload::RowUpload(JobService& service, SubmitRequest request, std::string job_id)
    : service_(service), request_(std::move(request)), id_(std::move(job_id)) {}

RowUpload::~RowUpload() {
  if (!finished_ && stored_any_) (void)service_.store_.DeleteRowChunks(id_, 0);
}

Status RowUpload::Add(const ClientData& rows) {
  if (finished_) return Status::FailedPrecondition("the upload has ended");
  if (rows.rows == 0) return Status::Ok();
  if (rows.width < 1 || static_cast<int64_t>(rows.values.size()) != rows.rows * rows.width) {
    return Status::InvalidArgument("input_rows: " + std::to_string(rows.values.size()) +
                                   " numbers are not " + std::to_string(rows.rows) + " rows of " +
                                   std::to_string(rows.width));
  }
  if (!job_) {
    stream_.width = rows.width;
    stream_.columns = rows.columns;
    const ClientData shape = ShapeOf(stream_);
    DIM_ASSIGN_OR_RETURN(JobRecord job, service_.NewJob(request_, &shape, /*streamed=*/true));
    job.id = id_;
    job_ = std::move(job);
    chunk_rows_ = StreamChunkRows(rows.width);
    buffer_.width = rows.width;
    buffer_.columns = rows.columns;
  } else if (rows.width != stream_.width ||
             (!rows.columns.empty() && rows.columns != stream_.columns)) {
    return Status::InvalidArgument("input_rows: rows of width " + std::to_string(rows.width) +
                                   " after rows of width " + std::to_string(stream_.width) +
                                   (rows.width == stream_.width ? " with other column names" : ""));
  }
  if (stream_.rows + rows.rows > kMaxStreamedValues / stream_.width) {
    return Status::InvalidArgument("input_rows: more than the " +
                                   std::to_string(kMaxStreamedValues) +
                                   " numbers a job's streamed rows may hold");
  }
  int64_t at = 0;
  while (at < rows.rows) {
    const int64_t take = std::min(rows.rows - at, chunk_rows_ - buffer_.rows);
    const auto* from = rows.values.data() + at * rows.width;
    buffer_.values.insert(buffer_.values.end(), from, from + take * rows.width);
    buffer_.rows += take;
    at += take;
    if (buffer_.rows == chunk_rows_) DIM_RETURN_IF_ERROR(Flush());
  }
  stream_.rows += rows.rows;
  return Status::Ok();
}

Status RowUpload::Flush() {
  if (buffer_.rows == 0) return Status::Ok();
  stored_any_ = true;
  DIM_RETURN_IF_ERROR(service_.store_.PutRowChunk(id_, 0, stream_.chunks, buffer_));
  stream_.chunks += 1;
  buffer_.rows = 0;
  buffer_.values.clear();
  return Status::Ok();
}

Result<JobRecord> RowUpload::Finish() {
  if (finished_) return Status::FailedPrecondition("the upload has ended");
  if (!job_ || stream_.rows == 0) return Status::InvalidArgument("input_rows: no rows came");
  DIM_RETURN_IF_ERROR(Flush());
  JobRecord job = *std::move(job_);
  job_.reset();
  job.input_stream = stream_;
  auto queued = service_.Enqueue(std::move(job));
  finished_ = queued.ok();
  return queued;
}

Result<std::vector<JobService::NodeDryRun>> JobService::DryRun(const SubmitRequest& request) {
  DIM_RETURN_IF_ERROR(CheckConfigSize(request.config_json, options_.max_config_bytes));
  DIM_ASSIGN_OR_RETURN(JobPlan plan,
                       Plan(request.pattern, request.config_json, request.input_rows.get()));
  DIM_RETURN_IF_ERROR(plan.nodes_status);
  const std::string job_id = "dry-run";
  std::vector<std::pair<std::string, NodeTask>> tasks;
  std::vector<std::string> steps;
  switch (request.pattern) {
    case Pattern::kCollaborative: {
      DIM_ASSIGN_OR_RETURN(CollaborativeConfig config, ParseCollaborativeConfig(plan.config_json));
      for (const auto& id : plan.node_ids)
        tasks.emplace_back(id, CollaborativeTask(job_id, config));
      break;
    }
    case Pattern::kComparative: {
      DIM_ASSIGN_OR_RETURN(ComparativeConfig config, ParseComparativeConfig(plan.config_json));
      tasks.emplace_back(plan.node_ids.at(0), ComparativeTask(job_id, config));
      break;
    }
    default: {
      DIM_ASSIGN_OR_RETURN(ChainedConfig config,
                           ParseChainedConfig(plan.config_json, request.input_rows.get()));
      DIM_ASSIGN_OR_RETURN(tasks, ChainedDryRunTasks(job_id, config));
      for (const auto& step : config.steps) steps.push_back("step " + std::to_string(step.step));
      break;
    }
  }
  std::vector<NodeDryRun> out;
  for (size_t i = 0; i < tasks.size(); ++i) {
    auto& [node_id, task] = tasks[i];
    task.user_id = request.user_id;
    NodeDryRun entry;
    entry.node_id = node_id;
    if (i < steps.size()) entry.step = steps[i];
    auto client = nodes_.Client(node_id);
    entry.verdict = client.ok() ? (*client)->DryRun(task) : Result<DryRunVerdict>(client.status());
    out.push_back(std::move(entry));
  }
  return out;
}

Result<JobService::JobPlan> JobService::Plan(Pattern pattern, std::string_view config_json,
                                             const ClientData* input_rows, bool streamed) {
  JobPlan plan;
  if (input_rows != nullptr && pattern != Pattern::kChained) {
    return Status::InvalidArgument("input_rows: only a chained job takes rows");
  }
  switch (pattern) {
    case Pattern::kCollaborative: {
      DIM_ASSIGN_OR_RETURN(CollaborativeConfig config, ParseCollaborativeConfig(config_json));
      plan.config_json = DumpJson(CollaborativeConfigToJson(config));
      plan.named_ids = config.nodes;
      auto chosen = SelectCollaborativeNodes(config, nodes_);
      if (chosen.ok()) {
        plan.node_ids = *std::move(chosen);
      } else {
        plan.nodes_status = chosen.status();
      }
      return plan;
    }
    case Pattern::kComparative: {
      DIM_ASSIGN_OR_RETURN(ComparativeConfig config, ParseComparativeConfig(config_json));
      plan.config_json = DumpJson(ComparativeConfigToJson(config));
      if (!config.node_id.empty()) plan.named_ids = {config.node_id};
      auto chosen = SelectComparativeNode(config, nodes_);
      if (chosen.ok()) {
        plan.node_ids = {*std::move(chosen)};
      } else {
        plan.nodes_status = chosen.status();
      }
      return plan;
    }
    case Pattern::kChained: {
      DIM_ASSIGN_OR_RETURN(ChainedConfig config, ParseChainedConfig(config_json, input_rows));
      if (streamed) DIM_RETURN_IF_ERROR(CheckChunkedPipeline(config));
      // Rows sent beside the config are stored beside it, in binary.
      if (input_rows != nullptr) config.input_data.reset();
      plan.config_json = DumpJson(ChainedConfigToJson(config));
      for (const auto& step : config.steps) plan.named_ids.push_back(step.node_id);
      plan.nodes_status = CheckChainedNodes(config, nodes_);
      if (plan.nodes_status.ok()) plan.node_ids = plan.named_ids;
      return plan;
    }
    case Pattern::kUnspecified:
      break;
  }
  return Status::InvalidArgument("pattern: must be collaborative, comparative or chained");
}

bool JobService::InGrace() const { return std::chrono::steady_clock::now() < grace_until_; }

bool JobService::NodesReady(const std::vector<std::string>& node_ids) {
  if (node_ids.empty()) return !InGrace();
  // The directory is asked at most once a kNodesPoll, however many jobs wait.
  const auto now = std::chrono::steady_clock::now();
  if (now >= active_nodes_until_) {
    active_nodes_.clear();
    for (const auto& d : nodes_.Describe()) {
      if (d.active) active_nodes_.insert(d.id);
    }
    active_nodes_until_ = now + kNodesPoll;
  }
  return std::all_of(node_ids.begin(), node_ids.end(),
                     [&](const std::string& id) { return active_nodes_.count(id) > 0; });
}

void JobService::RequeueWaitingLocked() {
  // One look a kNodesPoll, by whichever worker wakes first.
  const auto now = std::chrono::steady_clock::now();
  const bool grace_over = !InGrace();
  if (!grace_over && now < next_requeue_) return;
  next_requeue_ = now + kNodesPoll;
  std::erase_if(waiting_, [&](const WaitingForNodes& w) {
    if (!grace_over && !NodesReady(w.node_ids)) return false;
    queue_.push(w.queued);
    return true;
  });
}

void JobService::QueueLocked(const JobRecord& job, bool complete) {
  const size_t rows_bytes = job.input_rows ? job.input_rows->values.size() * sizeof(float) : 0;
  pending_[job.id] = complete && job.config_json.size() + rows_bytes <= kMaxConfigKeptBytes
                         ? std::make_shared<const JobRecord>(job)
                         : nullptr;
  queue_.push(Queued{job.priority, job.seq, job.id});
}

std::optional<JobRecord> JobService::InMemoryLocked(const std::string& id) const {
  if (auto it = running_.find(id); it != running_.end()) return it->second.shown;
  if (auto it = pending_.find(id); it != pending_.end() && it->second) return *it->second;
  return std::nullopt;
}

Result<JobRecord> JobService::FindLocked(const std::string& id) {
  if (auto job = InMemoryLocked(id)) return *std::move(job);
  return store_.Get(id);
}

Result<JobRecord> JobService::Get(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    if (auto job = InMemoryLocked(id)) return *std::move(job);
  }
  // Not here: ended (a job leaves running_ only once its end is stored), pending with a large
  // config, or another process's.
  return store_.Get(id);
}

Result<JobPage> JobService::List(const JobQuery& query) { return store_.List(query); }

JobService::Running* JobService::WaitForWritesLocked(std::unique_lock<std::mutex>& lock,
                                                    const std::string& id) {
  for (;;) {
    auto it = running_.find(id);
    if (it == running_.end()) return nullptr;
    if (!it->second.writing) return &it->second;
    changed_cv_.wait(lock);
  }
}

namespace {

Status AlreadyEnded(const JobRecord& job) {
  return Status::FailedPrecondition("job '" + job.id + "' already ended (" +
                                    std::string(JobStateName(job.state)) + ")");
}

}  // namespace

JobRecord JobService::CancelledRecord(JobRecord job, const std::string& by,
                                      std::vector<JobEventNotice>* notices) {
  AddEvent(job, JobEventKind::kCancelRequested, "", by.empty() ? "" : "by " + by, notices);
  job.state = JobState::kCancelled;
  job.error = by.empty() ? "cancelled by request" : "cancelled by " + by;
  job.completed_at = FormatIso8601(clock_.Now());
  for (auto& n : job.nodes) {
    if (n.state == TaskState::kPending || n.state == TaskState::kRunning) {
      n.state = TaskState::kCancelled;
    }
  }
  AddEvent(job, JobEventKind::kEnded, "", "CANCELLED: " + job.error, notices);
  return job;
}

Result<JobRecord> JobService::Cancel(const std::string& id, const std::string& by) {
  std::unique_lock lock(mu_);
  Running* running = WaitForWritesLocked(lock, id);
  if (running == nullptr) {
    // Pending (or ended): stored under mu_, so that no worker takes the job meanwhile; a
    // rare call, and a pending job's only write besides its insert.
    DIM_ASSIGN_OR_RETURN(JobRecord job, FindLocked(id));
    if (IsTerminal(job.state)) return AlreadyEnded(job);
    std::vector<JobEventNotice> notices;
    job = CancelledRecord(std::move(job), by, &notices);
    DIM_RETURN_IF_ERROR(store_.UpdateUnlessEnded(job));
    pending_.erase(id);  // its entry in queue_ is skipped
    Notify(job);
    lock.unlock();
    Tell(notices);
    return job;
  }
  if (running->ended) return AlreadyEnded(running->shown);  // CANCELLED, stored by a Cancel()
  // Claim the job's end, store it unlocked, and stop the job's node tasks once it is stored.
  std::vector<JobEventNotice> notices;
  JobRecord job = CancelledRecord(running->shown, by, &notices);
  running->ended = true;
  running->writing = true;
  lock.unlock();
  Status stored = store_.UpdateUnlessEnded(job);
  lock.lock();
  running = &running_.at(id);  // RunJob keeps the entry while a write is in flight
  running->writing = false;
  changed_cv_.notify_all();
  if (!stored.ok()) {
    // Not cancelled: the job goes on, and stores its own end. (FAILED_PRECONDITION: another
    // process sharing the store ended it; RunJob finds that when it stores its end.)
    running->ended = false;
    return stored;
  }
  running->token->Cancel();
  running->shown = job;
  Notify(job);
  lock.unlock();
  Tell(notices);
  return job;
}

Result<JobRecord> JobService::Wait(const std::string& id, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    DIM_ASSIGN_OR_RETURN(JobRecord job, FindLocked(id));
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
    std::shared_ptr<const JobRecord> record;
    {
      std::unique_lock lock(mu_);
      if (waiting_.empty()) {
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      } else {
        // Jobs wait for their nodes: look again every so often (and once the grace ends).
        queue_cv_.wait_for(lock, kNodesPoll, [&] { return stopping_ || !queue_.empty(); });
        RequeueWaitingLocked();
      }
      if (stopping_) return;
      if (queue_.empty()) continue;
      const Queued next = queue_.top();
      id = next.id;
      queue_.pop();
      auto it = pending_.find(id);
      if (it == pending_.end()) continue;  // cancelled while it waited
      if (InGrace()) {
        std::vector<std::string> node_ids;
        const JobRecord* job = it->second.get();
        std::optional<JobRecord> loaded;
        if (job == nullptr && (loaded = ToOptional(store_.Get(id)))) job = &*loaded;
        if (job != nullptr) {
          // Those it was given or named; none when they are to be chosen as it starts.
          for (const auto& n : job->nodes) node_ids.push_back(n.node_id);
          if (!NodesReady(node_ids)) {
            waiting_.push_back({next, std::move(node_ids)});
            continue;
          }
        }
      }
      record = std::move(it->second);
      pending_.erase(it);
    }
    RunJob(id, std::move(record));
  }
}

void JobService::Notify(const JobRecord& record) {
  changed_cv_.notify_all();
  auto [first, last] = watchers_by_job_.equal_range(record.id);
  for (auto it = first; it != last;) {
    auto entry = watchers_.find(it->second);
    if (entry != watchers_.end()) entry->second.watcher(record);
    if (IsTerminal(record.state)) {  // the last call: the watcher is done
      if (entry != watchers_.end()) watchers_.erase(entry);
      it = watchers_by_job_.erase(it);
    } else {
      ++it;
    }
  }
}

Result<int64_t> JobService::Watch(const std::string& id, Watcher watcher) {
  std::lock_guard lock(mu_);
  DIM_ASSIGN_OR_RETURN(JobRecord job, FindLocked(id));
  watcher(job);
  if (IsTerminal(job.state)) return int64_t{0};
  const int64_t handle = next_watch_++;
  watchers_.emplace(handle, WatchEntry{id, std::move(watcher)});
  watchers_by_job_.emplace(id, handle);
  return handle;
}

void JobService::Unwatch(int64_t handle) {
  if (handle == 0) return;
  std::lock_guard lock(mu_);
  auto it = watchers_.find(handle);
  if (it == watchers_.end()) return;
  auto [first, last] = watchers_by_job_.equal_range(it->second.job_id);
  for (auto j = first; j != last; ++j) {
    if (j->second == handle) {
      watchers_by_job_.erase(j);
      break;
    }
  }
  watchers_.erase(it);
}

Result<nlohmann::json> JobService::RunPattern(
    const JobRecord& job, const std::vector<std::string>& node_ids, const CancelToken& cancel,
    const NodeUpdateFn& on_update, nlohmann::json* failed_result, PipelineOutput* output) {
  JobNodes nodes(nodes_, job, node_threads_);
  switch (job.pattern) {
    case Pattern::kCollaborative: {
      DIM_ASSIGN_OR_RETURN(CollaborativeConfig config, ParseCollaborativeConfig(job.config_json));
      return RunCollaborative(job.id, config, node_ids, nodes, cancel, clock_, on_update);
    }
    case Pattern::kComparative: {
      DIM_ASSIGN_OR_RETURN(ComparativeConfig config, ParseComparativeConfig(job.config_json));
      if (node_ids.size() != 1) {
        return Status::Internal("a comparative job has one node task, this one has " +
                                std::to_string(node_ids.size()));
      }
      return RunComparative(job.id, config, node_ids[0], nodes, cancel, clock_, on_update);
    }
    case Pattern::kChained: {
      if (job.input_stream) {
        const ClientData shape = ShapeOf(*job.input_stream);
        DIM_ASSIGN_OR_RETURN(ChainedConfig config, ParseChainedConfig(job.config_json, &shape));
        // A run again (after a restart) starts its output afresh.
        DIM_RETURN_IF_ERROR(store_.DeleteRowChunks(job.id, 1));
        StoredChunks chunks(store_, job.id, *job.input_stream);
        auto result = RunChainedOverChunks(job.id, config, chunks, nodes, cancel, clock_, on_update,
                                           failed_result);
        if (result.ok()) {
          output->stream = chunks.output();
        } else {
          (void)store_.DeleteRowChunks(job.id, 1);  // part of an output is no output
        }
        return result;
      }
      DIM_ASSIGN_OR_RETURN(ChainedConfig config,
                           ParseChainedConfig(job.config_json, job.input_rows.get()));
      return RunChained(job.id, config, nodes, cancel, clock_, on_update, failed_result,
                        &output->rows);
    }
    default:
      return Status::InvalidArgument("job '" + job.id + "' has no pattern");
  }
}

void JobService::RunJob(const std::string& id, std::shared_ptr<const JobRecord> pending) {
  // Store writes of a job's state run without mu_; `writing` makes Cancel() wait for them,
  // and UpdateUnlessEnded keeps any end stored meanwhile (another process sharing the store
  // may have cancelled the pending job) from being overwritten.
  JobRecord job;
  if (pending) {
    job = *pending;
  } else {
    auto loaded = store_.Get(id);
    if (!loaded.ok() || loaded->state != JobState::kPending) return;
    job = std::move(*loaded);
  }
  auto token = std::make_shared<CancelToken>();
  {
    std::lock_guard lock(mu_);
    if (!running_.emplace(id, Running{job, token, false, /*writing=*/true}).second) return;
  }
  Status planned;
  if (job.total_steps == 0) {
    // Accepted before its nodes could be checked (just after a restart): checked now.
    const ClientData shape = job.input_stream ? ShapeOf(*job.input_stream) : ClientData{};
    auto plan = Plan(job.pattern, job.config_json, job.input_stream ? &shape : job.input_rows.get(),
                     job.input_stream.has_value());
    planned = plan.ok() ? plan->nodes_status : plan.status();
    if (planned.ok()) {
      job.nodes = NodeRecords(plan->node_ids);
      job.total_steps = static_cast<int>(job.nodes.size());
    }
  }
  job.state = JobState::kRunning;
  job.started_at = FormatIso8601(clock_.Now());
  std::vector<JobEventNotice> notices;
  {
    std::string on;
    for (const auto& n : job.nodes) on += (on.empty() ? "on " : ", ") + n.node_id;
    AddEvent(job, JobEventKind::kStarted, "", std::move(on), &notices);
  }
  Status stored = store_.UpdateUnlessEnded(job);
  {
    std::lock_guard lock(mu_);
    Running& r = running_.at(id);
    r.writing = false;
    changed_cv_.notify_all();
    if (stored.code() == StatusCode::kFailedPrecondition) {  // cancelled before it started
      running_.erase(id);
      return;
    }
    // Any other store failure cannot be reported to anyone: the job runs, and its end,
    // when stored, carries the record.
    r.shown = job;
    Notify(job);
  }
  Tell(notices);

  // Node progress is shown from memory (and stored only with store_progress).
  auto on_update = [&](size_t index, const NodeTaskRecord& node) {
    std::vector<JobEventNotice> task_notices;
    std::unique_lock lock(mu_);
    Running& r = running_.at(id);
    if (r.ended && !r.writing) return;  // Cancel() stored the job's end: the record stays
    if (index < r.shown.nodes.size()) {
      AddTaskEvents(r.shown, r.shown.nodes[index], node, &task_notices);
      r.shown.nodes[index] = node;
    }
    int done = 0;
    for (auto& n : r.shown.nodes) {
      if (IsEnded(n.state) && n.state != TaskState::kSkipped) ++done;
    }
    r.shown.completed_steps = done;
    // While a Cancel() is being stored the progress is kept (should that write fail) but not
    // shown; after Stop() the job ends FAILED, not with its nodes' "cancelled" steps.
    if (!r.ended && !token->cancelled()) {
      if (options_.store_progress) (void)store_.UpdateUnlessEnded(r.shown);
      Notify(r.shown);
    }
    lock.unlock();
    Tell(task_notices);
  };

  std::vector<std::string> node_ids;
  for (const auto& n : job.nodes) node_ids.push_back(n.node_id);
  nlohmann::json failed_result;
  PipelineOutput output;
  Result<nlohmann::json> result =
      planned.ok() ? RunPattern(job, node_ids, *token, on_update, &failed_result, &output)
                   : Result<nlohmann::json>(planned);

  std::unique_lock lock(mu_);
  Running* r = WaitForWritesLocked(lock, id);
  if (r->ended) {  // Cancel() stored the job's end
    running_.erase(id);
    return;
  }
  job = r->shown;
  job.completed_at = FormatIso8601(clock_.Now());
  if (result.ok()) {
    job.state = JobState::kCompleted;
    job.result_json = DumpJson(*result);
    if (output.rows)
      job.output_rows = std::make_shared<const ClientData>(ToClientData(*output.rows));
    job.output_stream = std::move(output.stream);
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
  if (!result.ok() && !failed_result.is_null()) job.result_json = DumpJson(failed_result);
  notices.clear();
  AddEvent(job, JobEventKind::kEnded, "",
           std::string(JobStateName(job.state)) + (job.error.empty() ? "" : ": " + job.error),
           &notices);
  r->ended = true;
  r->writing = true;
  lock.unlock();
  stored = store_.UpdateUnlessEnded(job);
  lock.lock();
  running_.erase(id);
  changed_cv_.notify_all();
  if (stored.code() == StatusCode::kFailedPrecondition) {
    // Another process sharing the store ended the job: that end stands.
    if (auto current = store_.Get(id); current.ok()) Notify(*current);
    return;
  }
  // Any other failure cannot be reported to anyone; the watchers still learn the end.
  Notify(job);
  lock.unlock();
  Tell(notices);
}

}  // namespace dim::core
