#include "net/grpc_node.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "net/grpc_status.h"

namespace dim::net {
namespace {

using std::chrono::steady_clock;

std::unique_ptr<grpc::ClientContext> Context(std::chrono::milliseconds deadline) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  return ctx;
}

}  // namespace

GrpcNode::GrpcNode(std::string node_id, std::string address,
                   std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds lost_after)
    : node_id_(std::move(node_id)),
      address_(std::move(address)),
      lost_after_(lost_after),
      stub_(dim::daemon::Daemon::NewStub(std::move(channel))) {}

core::Status GrpcNode::Unreachable(const grpc::Status& status) const {
  return core::Status::Unavailable("node '" + node_id_ + "' at " + address_ +
                                   " is unreachable: " + status.error_message());
}

void GrpcNode::CancelOnNode(const std::string& job_id) {
  dim::daemon::CancelJobRequest req;
  req.set_job_id(job_id);
  dim::daemon::CancelJobResponse resp;
  auto ctx = Context(std::chrono::seconds(2));
  (void)stub_->CancelJob(ctx.get(), req, &resp);  // best effort: the node may be gone
}

std::optional<core::Result<nlohmann::json>> GrpcNode::Ended(
    const dim::daemon::JobStatusResponse& st) const {
  if (st.status() == "completed") {
    auto json = nlohmann::json::parse(st.result_json(), nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      return core::Status::Internal("node '" + node_id_ + "' sent a malformed result");
    }
    return json;
  }
  if (st.status() == "failed") return core::Status(core::ParseStatusCode(st.error_code()), st.error());
  if (st.status() == "cancelled") return core::Status::Cancelled("task cancelled on the node");
  return std::nullopt;
}

core::Result<nlohmann::json> GrpcNode::RunTask(const core::NodeTask& task,
                                               const core::CancelToken& cancel,
                                               std::chrono::milliseconds timeout) {
  const auto start = steady_clock::now();
  // How long the next call may wait on the daemon: kStatusWait, cut to the time left.
  auto next_wait = [&] {
    auto wait = kStatusWait;
    if (timeout.count() > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          start + timeout - steady_clock::now());
      wait = std::clamp(left + std::chrono::milliseconds(1), std::chrono::milliseconds(1), wait);
    }
    return wait;
  };

  // SubmitJob waits for the task's end like GetJobStatus does: a short task takes one call.
  dim::daemon::SubmitJobRequest req;
  req.set_job_id(task.job_id);
  req.set_model_id(task.model_id);
  req.set_data_source(task.dataset);
  req.set_input_data_json(core::NodeTaskParamsJson(task));
  req.set_timeout(static_cast<int32_t>((timeout.count() + 999) / 1000));
  req.set_priority(static_cast<dim::common::Priority>(task.priority));
  const auto submit_wait = next_wait();
  req.set_wait_ms(static_cast<int32_t>(submit_wait.count()));
  dim::daemon::SubmitJobResponse submitted;
  {
    auto ctx = Context(kRpcDeadline + submit_wait);
    grpc::Status s = stub_->SubmitJob(ctx.get(), req, &submitted);
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE ||
        s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return Unreachable(s);
    }
    if (!s.ok()) return FromGrpc(s);
  }
  // A daemon without the extension answers at once, with no task status.
  if (submitted.has_task()) {
    if (auto end = Ended(submitted.task())) return std::move(*end);
  }

  auto last_contact = steady_clock::now();
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    if (cancel.cancelled()) {
      CancelOnNode(task.job_id);
      return core::Status::Cancelled("task cancelled");
    }
    if (timeout.count() > 0 && steady_clock::now() - start > timeout) {
      CancelOnNode(task.job_id);
      return core::Status::DeadlineExceeded("node '" + node_id_ + "' ran past the time limit");
    }
    const auto wait = next_wait();
    dim::daemon::GetJobStatusRequest status_req;
    status_req.set_job_id(task.job_id);
    status_req.set_wait_ms(static_cast<int32_t>(wait.count()));
    dim::daemon::JobStatusResponse st;
    auto ctx = Context(wait + std::chrono::seconds(2));
    const auto asked = steady_clock::now();
    grpc::Status s = stub_->GetJobStatus(ctx.get(), status_req, &st);
    if (!s.ok()) {
      if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
          s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
        return FromGrpc(s).WithPrefix("node '" + node_id_ + "'");
      }
      if (steady_clock::now() - last_contact > lost_after_) return Unreachable(s);
    } else {
      last_contact = steady_clock::now();
      if (auto end = Ended(st)) return std::move(*end);
    }
    // An answer well before the wait was up, of a task still going: a daemon that does not
    // know wait_ms, or an unreachable one. Poll it with a backoff rather than spin.
    if (steady_clock::now() - asked < wait / 2) {
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(50));
    }
  }
}

}  // namespace dim::net
