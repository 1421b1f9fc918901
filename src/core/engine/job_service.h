// The job engine behind the orchestrator and local mode: validates, stores, queues and runs
// jobs, and answers for them. Local mode and remote mode differ only in the NodeDirectory.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/job/config_reader.h"
#include "core/job_types.h"
#include "core/node/cancel_token.h"
#include "core/node/node_client.h"
#include "core/node/thread_pool.h"
#include "core/patterns/node_runs.h"
#include "core/status.h"
#include "core/store/job_store.h"

namespace dim::core {

struct SubmitRequest {
  std::string user_id;
  Pattern pattern = Pattern::kUnspecified;
  std::string config_json;
  Priority priority = Priority::kNormal;
  // A chained job's rows sent beside the config (a binary tensor) instead of as its
  // input_data; stored beside it, in binary.
  std::shared_ptr<const ClientData> input_rows;
};

// One event of a job, as JobObserver hears of it.
struct JobEventNotice {
  std::string job_id;
  Pattern pattern = Pattern::kUnspecified;
  JobState state = JobState::kPending;  // the job's state once the event happened
  JobEvent event;
  // kEnded: seconds from the job's submission to its end; kTaskEnded: the task's own.
  double seconds = 0;
  TaskState task_state = TaskState::kPending;  // kTaskEnded: how the task ended
};

// Hears of every event of every job (metrics, logs), in order for each job, outside the
// service's locks. Must be thread-safe and quick, and must not call the service.
class JobObserver {
 public:
  virtual ~JobObserver() = default;
  virtual void OnJobEvent(const JobEventNotice& notice) = 0;
};

struct JobServiceOptions {
  int workers = 4;  // jobs run at once
  // Jobs waiting to run beyond which Submit is RESOURCE_EXHAUSTED.
  int max_queued = 10000;
  // Whether Start() takes over the store's unfinished jobs. Off where several processes
  // share one store (local mode), since another process may be running them.
  bool recover = true;
  // Whether node progress (a node task starting or ending, completed_steps) is written to
  // the store as it happens. Off, a running job's record is kept in memory, answered from
  // there, and stored with the job's end: a job costs three commits (PENDING, RUNNING, its
  // end), and progress not yet stored is lost with the process, whose RUNNING jobs the next
  // Start() fails anyway. On where other processes read the same store (local mode).
  bool store_progress = false;
  // For this long after a Start() on a store that already holds jobs (a restart), the
  // nodes of a job may not be known yet: a restarted
  // orchestrator hears from its daemons again only as they heartbeat. Meanwhile a queued
  // job whose nodes are not all known and active waits for them instead of running (and
  // failing with "node not found"), and Submit accepts a job whose nodes cannot be checked
  // yet: it waits the same way and its nodes are checked (or chosen) when it starts. Zero:
  // no wait (local mode).
  std::chrono::milliseconds node_grace{0};
  // A site's own bounds, below the protocol's (kMaxConfigBytes, kMaxNodesPerJob): a larger
  // config or a job over more nodes is INVALID_ARGUMENT, naming the bound.
  size_t max_config_bytes = kMaxConfigBytes;
  size_t max_nodes_per_job = kMaxNodesPerJob;
  JobObserver* observer = nullptr;  // null: none
};

class JobService;

// A pipeline's rows sent in chunks (a streamed submit, JobService::BeginUpload), for rows
// too many for one message. Rows are stored as they fill the store's chunks (each of
// StreamChunkRows rows, whatever the sizes of the pieces added), so that one chunk at a
// time is in memory. Not thread-safe; belongs to one caller.
class RowUpload final {
 public:
  // An upload that did not Finish: the rows it stored are removed.
  ~RowUpload();
  RowUpload(const RowUpload&) = delete;
  RowUpload& operator=(const RowUpload&) = delete;

  // The first rows give the width and the column names, and the job is checked against
  // them as Submit checks it (config, nodes, a pipeline whose steps all read these rows);
  // later rows must have the same width and columns. INVALID_ARGUMENT otherwise, or past
  // kMaxStreamedValues numbers in all; UNAVAILABLE when the store cannot take them.
  [[nodiscard]] Status Add(const ClientData& rows);
  // Stores the job PENDING with its rows (JobRecord::input_stream) and queues it, as Submit
  // does. INVALID_ARGUMENT when no rows were added.
  Result<JobRecord> Finish();
  // The id the job gets.
  const std::string& job_id() const { return id_; }
  // Rows added so far.
  int64_t rows() const { return stream_.rows; }

 private:
  friend class JobService;
  RowUpload(JobService& service, SubmitRequest request, std::string job_id);
  Status Flush();  // stores the rows gathered as the next chunk

  JobService& service_;
  SubmitRequest request_;
  std::string id_;
  std::optional<JobRecord> job_;  // checked with the first rows
  RowStream stream_;
  ClientData buffer_;
  int64_t chunk_rows_ = 0;  // rows a chunk holds: StreamChunkRows(width)
  bool stored_any_ = false;
  bool finished_ = false;
};

// Thread-safe. Start() before use; Stop() (or the destructor) before the store and the
// directory go away. Every state a job is shown in (Get, List, Watch, Wait) is stored first;
// a running job's node progress is shown from memory (see JobServiceOptions::store_progress).
// No lock is held across a write of a running job's state, so store writes of different jobs
// and reads of running ones do not wait for each other.
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
  // A chained job whose rows come in chunks (RowUpload::Add), too many for Submit's one
  // message; request.input_rows must be null. RESOURCE_EXHAUSTED when the queue is full, and
  // the config's size checked, before any row is taken.
  Result<std::unique_ptr<RowUpload>> BeginUpload(SubmitRequest request);
  // A job's streamed output rows (JobRecord::output_stream), chunk `seq`; NOT_FOUND when
  // there is no such job or chunk.
  Result<ClientData> OutputChunk(const std::string& id, int64_t seq);
  // BeginUpload, every chunk `next` gives, then Finish.
  Result<JobRecord> SubmitStreamed(SubmitRequest request, const RowSource& next);
  // A completed job's output rows, in order: its streamed chunks, or its rows in memory.
  // FAILED_PRECONDITION when it has none.
  Status ReadOutputRows(const JobRecord& job, const RowSink& sink);
  // A running job's record comes from memory, with its node progress; the others from the
  // store. NOT_FOUND when absent.
  Result<JobRecord> Get(const std::string& id);
  Result<JobPage> List(const JobQuery& query);
  // Cancels a pending or running job: returns once CANCELLED is stored, and the job's end is
  // never stored over it. NOT_FOUND; FAILED_PRECONDITION for a job that already ended
  // (including one whose end is being stored as Cancel is called: it waits for that write).
  // `dim submit --dry-run`: checks the job as Submit does, then asks each of its nodes
  // whether it would accept its task (and at what ε, with what budget left). Nothing runs,
  // nothing is spent or stored. Errors: the job's own (config, nodes); a node that cannot
  // be asked is in its entry.
  struct NodeDryRun {
    std::string node_id;
    std::string step;  // chained: "step K"; "" otherwise
    Result<DryRunVerdict> verdict = Status(StatusCode::kUnknown, "not asked");
  };
  Result<std::vector<NodeDryRun>> DryRun(const SubmitRequest& request);

  // `by` names who asked ("alice (admin)"): the job's error says "cancelled by alice (admin)".
  Result<JobRecord> Cancel(const std::string& id, const std::string& by = {});
  // Blocks until the job ends or `timeout` passes (DEADLINE_EXCEEDED); returns the record.
  Result<JobRecord> Wait(const std::string& id, std::chrono::milliseconds timeout);

  // Follows a job: `watcher` is called at once with the job's record (as Get answers), then
  // with the record after every change (stored states, and node progress), the last call
  // carrying the state the job ended in.
  // It runs under the service's lock, so it must be quick and must not call the service.
  // Returns a handle for Unwatch, or 0 when the job had already ended (the one call made);
  // NOT_FOUND when there is no such job.
  using Watcher = std::function<void(const JobRecord&)>;
  Result<int64_t> Watch(const std::string& id, Watcher watcher);
  // Stops calls to the watcher; once it returns, none is running or will run. 0 is ignored.
  void Unwatch(int64_t handle);

  NodeDirectory& nodes() { return nodes_; }

  // Jobs waiting to run and jobs running in this process, now.
  struct Counts {
    int64_t queued = 0;
    int64_t running = 0;
  };
  Counts CountNow();

 private:
  friend class RowUpload;
  struct Queued {
    Priority priority;
    int64_t seq;
    std::string id;  // a job of pending_, or one cancelled since (skipped)
    bool operator<(const Queued& o) const {  // std::priority_queue pops the largest
      if (priority != o.priority) return priority < o.priority;
      return seq > o.seq;
    }
  };

  // What a pipeline gives besides its document: its output rows, or (over streamed rows)
  // the shape of the output rows it stored.
  struct PipelineOutput {
    std::optional<Matrix> rows;
    std::optional<RowStream> stream;
  };

  // A job this process runs, from the moment a worker takes it until its end is stored.
  struct Running {
    JobRecord shown;  // what Get/Watch answer: the last stored state, with node progress
    std::shared_ptr<CancelToken> token;
    bool ended = false;    // its end was claimed (by Cancel() or RunJob): no one else stores one
    bool writing = false;  // a write of its state is in flight; Cancel() and RunJob wait for it
  };

  // A job's canonical config and nodes: the config is checked (errors returned), and the
  // nodes checked or chosen, with the outcome in nodes_status.
  struct JobPlan {
    std::string config_json;
    std::vector<std::string> node_ids;   // as checked or chosen; empty unless nodes_status.ok()
    std::vector<std::string> named_ids;  // those the config names, if any
    Status nodes_status;
  };
  // INVALID_ARGUMENT for input_rows with a job that is not chained, or with a config that
  // also has input_data.
  // `streamed`: the rows are streamed (CheckChunkedPipeline).
  Result<JobPlan> Plan(Pattern pattern, std::string_view config_json, const ClientData* input_rows,
                       bool streamed = false);
  // A new job's record from the request (Plan, limits), not yet stored; the rows checked
  // against are `input_rows` (the request's when null).
  Result<JobRecord> NewJob(const SubmitRequest& request, const ClientData* input_rows,
                           bool streamed);
  // RESOURCE_EXHAUSTED when the queue is full; UNAVAILABLE when stopping.
  Status CheckQueueRoom();
  // Stores the new job PENDING (under job.id when set, else a new id) and queues it.
  Result<JobRecord> Enqueue(JobRecord job);
  // Within node_grace of Start().
  bool InGrace() const;
  // Under mu_: whether every node of a job is known and active (a job with none yet, to be
  // chosen when it starts, is ready once the grace period is over).
  bool NodesReady(const std::vector<std::string>& node_ids);
  // Under mu_: moves the jobs that waited for their nodes back into queue_, those whose nodes
  // are now ready, or all of them once the grace period is over.
  void RequeueWaitingLocked();

  void WorkerLoop();
  // Runs a job taken from pending_: its record, or null to read it from the store.
  void RunJob(const std::string& id, std::shared_ptr<const JobRecord> pending);
  // Under mu_: queues a PENDING job (stored already), keeping its record in memory unless
  // its config is large.
  // `complete`: the record has all of the job (not a recovered one listed without its rows).
  void QueueLocked(const JobRecord& job, bool complete = true);
  // Under mu_: a running job's shown record, or a pending one's kept record.
  std::optional<JobRecord> InMemoryLocked(const std::string& id) const;
  // Under mu_: InMemoryLocked, or else the stored record.
  Result<JobRecord> FindLocked(const std::string& id);
  // Under mu_ (through `lock`): waits until no write of the running job is in flight; the
  // entry, or nullptr once the job is no longer running here.
  Running* WaitForWritesLocked(std::unique_lock<std::mutex>& lock, const std::string& id);
  // The job's pattern on its nodes; the result document, or why the job did not complete
  // (and then, in *failed_result, what the pattern reports of a job that did not complete,
  // if anything: a pipeline's trace).
  Result<nlohmann::json> RunPattern(const JobRecord& job, const std::vector<std::string>& node_ids,
                                    const CancelToken& cancel, const NodeUpdateFn& on_update,
                                    nlohmann::json* failed_result, PipelineOutput* output);
  // Under mu_: wakes waiters and calls the job's watchers with its record.
  void Notify(const JobRecord& record);
  // Adds an event to `job` (now), and its notice to *notices, for Tell() once unlocked.
  void AddEvent(JobRecord& job, JobEventKind kind, std::string node_id, std::string detail,
                std::vector<JobEventNotice>* notices, double seconds = 0,
                TaskState task_state = TaskState::kPending);
  // The events a node task's update brings, from its entry before and after.
  void AddTaskEvents(JobRecord& job, const NodeTaskRecord& before, const NodeTaskRecord& after,
                     std::vector<JobEventNotice>* notices);
  // The record of a job cancelled `by` someone, with its events.
  JobRecord CancelledRecord(JobRecord job, const std::string& by,
                            std::vector<JobEventNotice>* notices);
  // Without mu_: tells the observer.
  void Tell(const std::vector<JobEventNotice>& notices);
  std::string NewJobId();

  JobStore& store_;
  NodeDirectory& nodes_;
  const Clock& clock_;
  JobServiceOptions options_;

  std::mutex mu_;
  std::condition_variable queue_cv_;
  std::condition_variable changed_cv_;
  std::priority_queue<Queued> queue_;
  // Jobs taken from queue_ during the grace period whose nodes were not ready, with the
  // nodes they wait for (empty: nodes to be chosen once the grace period is over).
  struct WaitingForNodes {
    Queued queued;
    std::vector<std::string> node_ids;
  };
  std::vector<WaitingForNodes> waiting_;
  std::chrono::steady_clock::time_point grace_until_{};
  // How often waiting jobs are looked at, and the directory asked which nodes are active.
  static constexpr std::chrono::milliseconds kNodesPoll{100};
  std::chrono::steady_clock::time_point next_requeue_{};
  std::set<std::string> active_nodes_;  // as the directory said, until active_nodes_until_
  std::chrono::steady_clock::time_point active_nodes_until_{};
  // The jobs waiting to run, each with its record as stored (null where the config is too
  // large to keep: read from the store when the job starts). Get, Watch and the workers
  // answer from here; a pending job's Cancel() removes it.
  std::map<std::string, std::shared_ptr<const JobRecord>> pending_;
  std::map<std::string, Running> running_;
  struct WatchEntry {
    std::string job_id;
    Watcher watcher;
  };
  std::map<int64_t, WatchEntry> watchers_;
  std::multimap<std::string, int64_t> watchers_by_job_;
  int64_t next_watch_ = 1;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  // The threads that wait on node tasks (RunNodeTasks), reused across jobs. Declared last:
  // destroyed first, once Stop() has ended every job.
  ThreadPool node_threads_;
};

}  // namespace dim::core
