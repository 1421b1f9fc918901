#include "core/security/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/text.h"

namespace dim::core {

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const std::filesystem::path& path,
                                                 const Clock& clock) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::InvalidArgument("--audit-log " + path.string() + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument("--audit-log " + path.string() + ": not a regular file");
  }
  return std::unique_ptr<AuditLog>(new AuditLog(path, fd, clock));
}

AuditLog::~AuditLog() { ::close(fd_); }

Status AuditLog::Append(AuditEntry entry) {
  if (entry.time.empty()) entry.time = FormatIso8601(clock_.Now());
  std::string line = AuditLine(entry);
  line += '\n';
  std::lock_guard lock(mu_);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return Status::Unavailable("audit log " + path_.string() + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

std::string AuditLine(const AuditEntry& e) {
  nlohmann::json j;
  j["time"] = e.time;
  if (!e.peer.empty()) j["peer"] = e.peer;
  if (!e.identity.empty()) j["identity"] = e.identity;
  if (!e.role.empty()) j["role"] = e.role;
  j["method"] = e.method;
  if (!e.job_id.empty()) j["job_id"] = e.job_id;
  if (!e.node_id.empty()) j["node_id"] = e.node_id;
  j["outcome"] = e.outcome;
  if (!e.code.empty()) j["code"] = e.code;
  if (!e.message.empty()) j["message"] = e.message;
  return DumpJson(j);
}

Result<AuditEntry> ParseAuditLine(std::string_view line) {
  nlohmann::json j = ParseUntrustedJson(line);
  if (!j.is_object() || !j.contains("method") || !j.contains("outcome")) {
    return Status::InvalidArgument("not an audit line");
  }
  AuditEntry e;
  auto get = [&](const char* key, std::string& out) {
    if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
  };
  get("time", e.time);
  get("peer", e.peer);
  get("identity", e.identity);
  get("role", e.role);
  get("method", e.method);
  get("job_id", e.job_id);
  get("node_id", e.node_id);
  get("outcome", e.outcome);
  get("code", e.code);
  get("message", e.message);
  return e;
}

}  // namespace dim::core
