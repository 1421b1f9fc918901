#include "core/job_types.h"

#include <algorithm>
#include <cctype>
#include <ostream>
#include <string>

#include "core/text.h"

namespace dim::core {

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kPending: return "PENDING";
    case JobState::kRunning: return "RUNNING";
    case JobState::kCompleted: return "COMPLETED";
    case JobState::kFailed: return "FAILED";
    case JobState::kCancelled: return "CANCELLED";
    case JobState::kUnspecified: break;
  }
  return "UNSPECIFIED";
}

std::optional<JobState> ParseJobState(std::string_view text) {
  std::string t = AsciiLower(text);
  if (t.starts_with("job_state_")) t = t.substr(10);
  for (JobState s : {JobState::kPending, JobState::kRunning, JobState::kCompleted,
                     JobState::kFailed, JobState::kCancelled}) {
    if (t == AsciiLower(JobStateName(s))) return s;
  }
  return std::nullopt;
}

bool IsTerminal(JobState state) {
  return state == JobState::kCompleted || state == JobState::kFailed ||
         state == JobState::kCancelled;
}

std::string_view TaskStateName(TaskState state) {
  switch (state) {
    case TaskState::kPending:
      return "pending";
    case TaskState::kQueued:
      return "queued";
    case TaskState::kRunning:
      return "running";
    case TaskState::kCompleted:
      return "completed";
    case TaskState::kFailed:
      return "failed";
    case TaskState::kCancelled:
      return "cancelled";
    case TaskState::kSkipped:
      return "skipped";
  }
  return "unknown";
}

std::optional<TaskState> ParseTaskState(std::string_view text) {
  for (int k = 0; k <= static_cast<int>(TaskState::kSkipped); ++k) {
    if (TaskStateName(static_cast<TaskState>(k)) == text) return static_cast<TaskState>(k);
  }
  return std::nullopt;
}

std::ostream& operator<<(std::ostream& out, TaskState state) { return out << TaskStateName(state); }

bool IsEnded(TaskState state) {
  return state == TaskState::kCompleted || state == TaskState::kFailed ||
         state == TaskState::kCancelled || state == TaskState::kSkipped;
}

TaskState EndedState(const Status& status) {
  if (status.ok()) return TaskState::kCompleted;
  return status.code() == StatusCode::kCancelled ? TaskState::kCancelled : TaskState::kFailed;
}

std::string_view JobEventName(JobEventKind kind) {
  switch (kind) {
    case JobEventKind::kSubmitted:
      return "submitted";
    case JobEventKind::kQueued:
      return "queued";
    case JobEventKind::kStarted:
      return "started";
    case JobEventKind::kTaskStarted:
      return "task_started";
    case JobEventKind::kTaskEnded:
      return "task_ended";
    case JobEventKind::kTaskRetried:
      return "task_retried";
    case JobEventKind::kFellBack:
      return "fell_back";
    case JobEventKind::kCancelRequested:
      return "cancel_requested";
    case JobEventKind::kEnded:
      return "ended";
  }
  return "unknown";
}

std::optional<JobEventKind> ParseJobEventKind(std::string_view text) {
  for (int k = 0; k <= static_cast<int>(JobEventKind::kEnded); ++k) {
    if (JobEventName(static_cast<JobEventKind>(k)) == text) return static_cast<JobEventKind>(k);
  }
  return std::nullopt;
}

void AppendJobEvent(std::vector<JobEvent>& events, JobEvent event) {
  if (events.size() >= kMaxJobEvents) {
    events.erase(events.begin() + static_cast<std::ptrdiff_t>(kMaxJobEvents / 2));
  }
  events.push_back(std::move(event));
}

std::string_view PatternName(Pattern pattern) {
  switch (pattern) {
    case Pattern::kCollaborative: return "collaborative";
    case Pattern::kComparative: return "comparative";
    case Pattern::kChained: return "chained";
    case Pattern::kUnspecified: break;
  }
  return "unspecified";
}

std::optional<Pattern> ParsePattern(std::string_view text) {
  std::string t = AsciiLower(text);
  if (t.starts_with("pattern_")) t = t.substr(8);
  for (Pattern p : {Pattern::kCollaborative, Pattern::kComparative, Pattern::kChained}) {
    if (t == PatternName(p)) return p;
  }
  return std::nullopt;
}

std::string_view PriorityName(Priority priority) {
  switch (priority) {
    case Priority::kLow: return "low";
    case Priority::kNormal: return "normal";
    case Priority::kHigh: return "high";
    case Priority::kUnspecified: break;
  }
  return "unspecified";
}

std::optional<Priority> ParsePriority(std::string_view text) {
  std::string t = AsciiLower(text);
  if (t.starts_with("priority_")) t = t.substr(9);
  for (Priority p : {Priority::kLow, Priority::kNormal, Priority::kHigh}) {
    if (t == PriorityName(p)) return p;
  }
  return std::nullopt;
}

nlohmann::json JobResultDocument(const JobRecord& job) {
  nlohmann::json doc = ParseUntrustedJson(job.result_json);
  if (job.output_rows && doc.is_object()) {
    doc["output_rows"] = ClientDataRowsToJson(*job.output_rows);
  }
  return doc;
}

std::string JobResultJson(const JobRecord& job) {
  if (!job.output_rows || job.result_json.empty()) return job.result_json;
  const nlohmann::json doc = JobResultDocument(job);
  return doc.is_object() ? DumpJson(doc) : job.result_json;
}

}  // namespace dim::core
