// The audit log (`--audit-log FILE`): one JSON object a line for every state-changing call
// and every refused one, appended with one write(2) each, so that lines from many threads
// never mix and a crash loses at most the line being written. Thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace dim::core {

struct AuditEntry {
  std::string time{};      // ISO 8601 UTC (set by Append when empty)
  std::string peer{};      // the caller's address, as gRPC gives it ("ipv4:127.0.0.1:53312")
  std::string identity{};  // the authenticated name; "" when the caller is not authenticated
  std::string role{};      // "user", "admin", "node", "orchestrator"; "" when not authenticated
  std::string method{};    // "SubmitJob", "CancelJob", ...
  std::string job_id{};    // "" when the call names none
  std::string node_id{};   // RegisterNode, Heartbeat: the node id asked for
  std::string outcome{};   // "OK", or the status code's name ("PERMISSION_DENIED", ...)
  std::string code{};      // Error.code when it differs from outcome ("RATE_LIMIT_EXCEEDED")
  std::string message{};   // why it was refused; "" when OK
};

class AuditLog final {
 public:
  // Opens `path` for appending (made with mode 0600 when missing). Errors name the file.
  static Result<std::unique_ptr<AuditLog>> Open(const std::filesystem::path& path,
                                                const Clock& clock);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends one line. UNAVAILABLE when it could not be written (never throws).
  Status Append(AuditEntry entry);
  const std::filesystem::path& path() const { return path_; }

 private:
  AuditLog(std::filesystem::path path, int fd, const Clock& clock)
      : path_(std::move(path)), fd_(fd), clock_(clock) {}
  std::filesystem::path path_;
  int fd_;
  const Clock& clock_;
  std::mutex mu_;
};

// The JSON line of an entry (no newline), with only the keys that have values besides
// time, method and outcome, which are always there.
std::string AuditLine(const AuditEntry& entry);
// An audit line read back; INVALID_ARGUMENT when it is not one.
Result<AuditEntry> ParseAuditLine(std::string_view line);

}  // namespace dim::core
