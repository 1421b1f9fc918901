// Job vocabulary shared by every layer: states, patterns, priorities and the job record.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/client_data.h"

namespace dim::core {

// Numbered as dim.common.JobState.
enum class JobState : int {
  kUnspecified = 0,
  kPending = 1,
  kRunning = 2,
  kCompleted = 3,
  kFailed = 4,
  kCancelled = 5,
};

// Numbered as dim.common.Pattern.
enum class Pattern : int { kUnspecified = 0, kCollaborative = 1, kComparative = 2, kChained = 3 };

// Numbered as dim.common.Priority.
enum class Priority : int { kUnspecified = 0, kLow = 1, kNormal = 2, kHigh = 3 };

// "PENDING", "RUNNING", ... (the proto name without its JOB_STATE_ prefix).
std::string_view JobStateName(JobState state);
// Accepts "running", "RUNNING" and "JOB_STATE_RUNNING"; nullopt for anything else.
std::optional<JobState> ParseJobState(std::string_view text);
bool IsTerminal(JobState state);

// "collaborative", "comparative", "chained".
std::string_view PatternName(Pattern pattern);
std::optional<Pattern> ParsePattern(std::string_view text);

// "low", "normal", "high".
std::string_view PriorityName(Priority priority);
std::optional<Priority> ParsePriority(std::string_view text);

// Where a node task is. kQueued: waiting on its node; kSkipped: a pipeline step never run
// because an earlier step failed.
enum class TaskState : int {
  kPending,
  kQueued,
  kRunning,
  kCompleted,
  kFailed,
  kCancelled,
  kSkipped,
};

// "pending", "queued", "running", "completed", "failed", "cancelled", "skipped": the daemon
// protocol's words, and those of a job's node list.
std::string_view TaskStateName(TaskState state);
std::optional<TaskState> ParseTaskState(std::string_view text);
// Completed, failed, cancelled or skipped.
bool IsEnded(TaskState state);
// TaskStateName, for logs and test failures.
std::ostream& operator<<(std::ostream& out, TaskState state);
// kCompleted for OK, kCancelled for CANCELLED, kFailed for any other code.
TaskState EndedState(const Status& status);

// One node's part of a job.
struct NodeTaskRecord {
  std::string node_id;
  TaskState state = TaskState::kPending;
  // Why the task failed or was cancelled; OK otherwise.
  Status error;
  std::string started_at;
  std::string completed_at;
  double execution_seconds = 0;
  // Progress as the node reports it while the task runs: rows its models went through, of
  // rows_total (0 of 0: not known).
  int64_t rows_done = 0;
  int64_t rows_total = 0;
};

// What happened to a job, in order: its timeline (`dim status JOB --events`).
enum class JobEventKind : int {
  kSubmitted,
  kQueued,
  kStarted,
  kTaskStarted,      // a node task began (node_id)
  kTaskEnded,        // a node task ended (node_id; detail: how)
  kTaskRetried,      // a node task runs again on the same node after a failure
  kFellBack,         // a step moved to another node (node_id: the new one; detail: from)
  kCancelRequested,  // detail: by whom
  kEnded,            // detail: the state, and the error if any
};

// "submitted", "queued", "started", "task_started", "task_ended", "task_retried",
// "fell_back", "cancel_requested", "ended".
std::string_view JobEventName(JobEventKind kind);
std::optional<JobEventKind> ParseJobEventKind(std::string_view text);

struct JobEvent {
  std::string time;  // ISO 8601 UTC
  JobEventKind kind = JobEventKind::kSubmitted;
  std::string node_id;
  std::string detail;
};

// A job keeps at most this many events; beyond, the middle ones give way (the first and the
// last always stay), so that a job over many nodes, or one retried many times, does not grow
// without bound.
inline constexpr size_t kMaxJobEvents = 1000;
// Appends `event`, keeping at most kMaxJobEvents (the first kMaxJobEvents / 2 and the
// latest ones).
void AppendJobEvent(std::vector<JobEvent>& events, JobEvent event);

struct JobRecord {
  std::string id;
  std::string user_id;
  Pattern pattern = Pattern::kUnspecified;
  Priority priority = Priority::kNormal;
  std::string config_json;
  JobState state = JobState::kPending;
  std::string result_json;
  std::string error;
  std::vector<NodeTaskRecord> nodes;
  int completed_steps = 0;
  int total_steps = 0;
  std::string created_at;
  std::string started_at;
  std::string completed_at;
  // Insertion order in the store (set by the store): FIFO within a priority.
  int64_t seq = 0;
  std::vector<JobEvent> events;
  // A chained job's rows sent beside its config (then not in config_json's input_data), and
  // its output rows once completed (then not in result_json's output_rows): kept in binary.
  // Shared, never changed once set.
  std::shared_ptr<const ClientData> input_rows;
  std::shared_ptr<const ClientData> output_rows;
  // A chained job's rows too many for one message (a streamed submit), and its output rows
  // then: kept in the store's chunks (JobStore::GetRowChunk), never all in memory.
  std::optional<RowStream> input_stream;
  std::optional<RowStream> output_stream;
};

// The job's result document as JSON clients get it: result_json with "output_rows" put
// back in when the rows are kept beside it.
std::string JobResultJson(const JobRecord& job);
// The same, parsed: discarded when result_json is not JSON (then without the rows).
nlohmann::json JobResultDocument(const JobRecord& job);

}  // namespace dim::core
