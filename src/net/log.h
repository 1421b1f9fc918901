// The services' log lines: text for people, or one JSON object a line for log shippers
// (--log-format json), each naming the process and, where a line is about one, the job and
// the node task.
#pragma once

#include <spdlog/formatter.h>

#include <memory>
#include <string>

namespace dim::net {

// The job and node task the current thread's log lines are about, while it is in scope.
// Nested scopes restore the outer one when they end.
class LogScope final {
 public:
  LogScope(std::string job_id, std::string task_id = {});
  ~LogScope();
  LogScope(const LogScope&) = delete;
  LogScope& operator=(const LogScope&) = delete;

 private:
  std::string saved_job_;
  std::string saved_task_;
};

// {"time":"2026-12-07T12:00:00.123Z","level":"info","process":"daemon","node":"hospital-a",
//  "job":"...","task":"...","message":"..."}: one object a line, valid JSON whatever bytes the
// message holds (invalid UTF-8 becomes U+FFFD). `node_id` and the job and task are left out
// where empty.
std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter(std::string role, std::string node_id);

// The text format: "2026-12-07T12:00:00.123 info  [daemon hospital-a] job J: message".
std::unique_ptr<spdlog::formatter> MakeTextLogFormatter(std::string process);

}  // namespace dim::net
