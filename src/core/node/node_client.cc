#include "core/node/node_client.h"

#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/text.h"

namespace dim::core {

bool CountsAgainstNode(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
    case StatusCode::kCancelled:
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
    case StatusCode::kAlreadyExists:
    case StatusCode::kResourceExhausted:  // busy, not unreliable: capacity covers it
      return false;
    default:
      return true;
  }
}

Status CheckNodeId(std::string_view id) {
  if (id.empty()) return Status::InvalidArgument("node id must not be empty");
  if (id.size() > kMaxNodeIdBytes) {
    return Status::InvalidArgument("node id '" + Snippet(id, 40) + "': longer than " +
                                   std::to_string(kMaxNodeIdBytes) + " bytes");
  }
  if (!IsValidUtf8(id))
    return Status::InvalidArgument("node id '" + Snippet(id) + "': not valid UTF-8");
  for (const char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == ',' || c == '=') {
      return Status::InvalidArgument("node id '" + Snippet(id) +
                                     "': no spaces, control characters, ',' or '='");
    }
  }
  return Status::Ok();
}

double NextReputation(double reputation, const Status& status) {
  constexpr double kStep = 0.1;
  if (status.ok()) return reputation + kStep * (1.0 - reputation);
  if (CountsAgainstNode(status)) return reputation - kStep * reputation;
  return reputation;
}

Result<Summary> NodeClient::RunSummaryTask(const NodeTask& task, const CancelToken& cancel,
                                           std::chrono::milliseconds timeout) {
  DIM_ASSIGN_OR_RETURN(TaskResult result, RunTask(task, cancel, timeout));
  auto* summary = std::get_if<Summary>(&result);
  if (summary == nullptr) return Status::Internal("the node sent something other than a summary");
  return std::move(*summary);
}

Result<TaskResult> NodeClient::RunStartedTask(const NodeTask& task, const CancelToken& cancel,
                                              std::chrono::milliseconds timeout) {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<TaskResult>> end;
  TaskDone done = [&](Result<TaskResult> result) {
    // Notified under the lock: once it is released the waiter may return, and mu and cv go.
    std::lock_guard lock(mu);
    end = std::move(result);
    cv.notify_one();
  };
  if (!StartTask(task, cancel, timeout, done)) {
    return Status::Internal("this node client cannot start tasks");
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return end.has_value(); });
  return *std::move(end);
}

void NodeDirectory::StartThread(std::function<void()> work) {
  std::thread(std::move(work)).detach();
}

}  // namespace dim::core
