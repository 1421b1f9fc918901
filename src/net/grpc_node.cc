#include "net/grpc_node.h"

#include <grpcpp/alarm.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/text.h"
#include "net/grpc_status.h"
#include "net/task_codec.h"

namespace dim::net {
namespace {

using std::chrono::steady_clock;

// A result larger than this is parsed on a thread of its own, not on gRPC's (a pipeline
// step's rows may run to megabytes).
constexpr size_t kParseInlineBytes = 256 * 1024;

std::unique_ptr<grpc::ClientContext> Context(std::chrono::milliseconds deadline,
                                             const std::string& authorization) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + deadline);
  if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
  return ctx;
}

bool IsUnreachable(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

// One task's calls, from SubmitJob to the task's end; each call's callback makes the next.
// Owns itself: deleted once `done` has been called. Holds the stub, so it may outlive the
// GrpcNode. Only one call is in flight at a time, so its members need no lock.
class GrpcNode::TaskCalls final {
 public:
  TaskCalls(const GrpcNode& node, const core::NodeTask& task, const core::CancelToken& cancel,
            std::chrono::milliseconds timeout, TaskDone done)
      : node_id_(node.node_id_),
        address_(node.address_),
        lost_after_(node.lost_after_),
        authorization_(node.authorization_),
        stub_(node.stub_),
        cancel_(cancel),
        timeout_(timeout),
        done_(std::move(done)) {
    ToRequest(task, &submit_req_);
    submit_req_.set_timeout(static_cast<int32_t>((timeout.count() + 999) / 1000));
    // Reading the result needs the task's kind and models, and whether it sent rows: not
    // the rows themselves.
    task_.kind = task.kind;
    task_.model_ids = task.model_ids;
    if (task.input_rows) task_.input_rows.emplace();
    status_req_.set_job_id(task.job_id);
    cancel_req_.set_job_id(task.job_id);
  }

  // SubmitJob waits for the task's end like GetJobStatus does: a short task takes one call.
  void Start() {
    const auto wait = NextWait();
    submit_req_.set_wait_ms(static_cast<int32_t>(wait.count()));
    ctx_ = Context(kRpcDeadline + wait, authorization_);
    stub_->async()->SubmitJob(ctx_.get(), &submit_req_, &submit_resp_,
                              [this](grpc::Status s) { Submitted(s); });
  }

 private:
  // How long the next call may wait on the daemon: kStatusWait, cut to the time left.
  std::chrono::milliseconds NextWait() const {
    auto wait = kStatusWait;
    if (timeout_.count() > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(start_ + timeout_ -
                                                                              steady_clock::now());
      wait = std::clamp(left + std::chrono::milliseconds(1), std::chrono::milliseconds(1), wait);
    }
    return wait;
  }

  void Submitted(const grpc::Status& s) {
    if (IsUnreachable(s)) return Finish(Unreachable(s));
    if (!s.ok()) return Finish(FromGrpc(s));
    last_contact_ = steady_clock::now();
    // A daemon without the extension answers at once, with no task status.
    if (submit_resp_.has_task() && Ended(*submit_resp_.mutable_task())) return;
    Poll();
  }

  void Poll() {
    if (cancel_.cancelled()) {
      return CancelOnNodeThenFinish(core::Status::Cancelled("task cancelled"));
    }
    if (timeout_.count() > 0 && steady_clock::now() - start_ > timeout_) {
      return CancelOnNodeThenFinish(
          core::Status::DeadlineExceeded("node '" + node_id_ + "' ran past the time limit"));
    }
    wait_ = NextWait();
    status_req_.set_wait_ms(static_cast<int32_t>(wait_.count()));
    status_resp_.Clear();
    ctx_ = Context(wait_ + std::chrono::seconds(2), authorization_);
    asked_ = steady_clock::now();
    stub_->async()->GetJobStatus(ctx_.get(), &status_req_, &status_resp_,
                                 [this](grpc::Status s) { Answered(s); });
  }

  void Answered(const grpc::Status& s) {
    if (!s.ok()) {
      if (!IsUnreachable(s)) return Finish(FromGrpc(s).WithPrefix("node '" + node_id_ + "'"));
      if (steady_clock::now() - last_contact_ > lost_after_) return Finish(Unreachable(s));
    } else {
      last_contact_ = steady_clock::now();
      if (Ended(status_resp_)) return;
      // The node's progress, for whoever follows the task; a node cannot claim more rows
      // done than it has, nor fewer than none.
      const int64_t total = std::max<int64_t>(0, status_resp_.rows_total());
      cancel_.SetRows(std::clamp<int64_t>(status_resp_.rows_done(), 0, total), total);
    }
    // An answer well before the wait was up, of a task still going: a daemon that does not
    // know wait_ms, or an unreachable one. Poll it with a backoff rather than spin.
    if (steady_clock::now() - asked_ < wait_ / 2) {
      // A new alarm each time: gRPC does not promise that one can be set again.
      alarm_ = std::make_unique<grpc::Alarm>();
      alarm_->Set(std::chrono::system_clock::now() + pause_, [this](bool) { Poll(); });
      pause_ = std::min(pause_ * 2, std::chrono::milliseconds(50));
      return;
    }
    Poll();
  }

  // Finishes with the task's end when the daemon's status says it ended; false while it
  // goes on. Takes the result out of `st`.
  bool Ended(dim::daemon::JobStatusResponse& st) {
    const auto state = core::ParseTaskState(st.status());
    if (state == core::TaskState::kCompleted) {
      if (st.result_json().size() + st.output_rows().data().size() <= kParseInlineBytes) {
        Finish(ReadResult(st));
      } else {
        auto owned = std::make_shared<dim::daemon::JobStatusResponse>();
        owned->Swap(&st);
        // The call is over: its context goes now, on gRPC's thread, within the callback as
        // gRPC allows, never from the parser's thread while gRPC may still be in the call.
        ctx_.reset();
        std::thread([this, owned] { Finish(ReadResult(*owned)); }).detach();
      }
      return true;
    }
    if (state == core::TaskState::kFailed) {
      Finish(core::Status(core::ParseStatusCode(st.error_code()), st.error()));
      return true;
    }
    if (state == core::TaskState::kCancelled) {
      Finish(core::Status::Cancelled("task cancelled on the node"));
      return true;
    }
    return false;
  }

  core::Result<core::TaskResult> ReadResult(dim::daemon::JobStatusResponse& st) const {
    auto result = TaskResultFromStatus(task_, st);
    if (!result.ok()) {
      return core::Status::Internal("node '" + node_id_ + "' sent a " + result.status().message());
    }
    return result;
  }

  core::Status Unreachable(const grpc::Status& status) const {
    return core::Status::Unavailable("node '" + node_id_ + "' at " + address_ +
                                     " is unreachable (" +
                                     UnreachableReason(status.error_message()) + ")");
  }

  // Tells the node to stop the task, then finishes with `end` whatever the node answered
  // (it may be gone): the task's end is reported once the node was told.
  void CancelOnNodeThenFinish(core::Status end) {
    ctx_ = Context(std::chrono::seconds(2), authorization_);
    stub_->async()->CancelJob(ctx_.get(), &cancel_req_, &cancel_resp_,
                              [this, end = std::move(end)](const grpc::Status&) { Finish(end); });
  }

  void Finish(core::Result<core::TaskResult> result) {
    done_(std::move(result));
    delete this;
  }

  const std::string node_id_;
  const std::string address_;
  const std::chrono::milliseconds lost_after_;
  const std::string authorization_;
  const std::shared_ptr<dim::daemon::Daemon::Stub> stub_;
  const core::CancelToken& cancel_;
  const std::chrono::milliseconds timeout_;
  const TaskDone done_;
  core::NodeTask task_;  // what ReadResult needs of the task
  const steady_clock::time_point start_ = steady_clock::now();

  std::unique_ptr<grpc::ClientContext> ctx_;  // the call in flight
  dim::daemon::SubmitJobRequest submit_req_;
  dim::daemon::SubmitJobResponse submit_resp_;
  dim::daemon::GetJobStatusRequest status_req_;
  dim::daemon::JobStatusResponse status_resp_;
  dim::daemon::CancelJobRequest cancel_req_;
  dim::daemon::CancelJobResponse cancel_resp_;
  steady_clock::time_point last_contact_;
  steady_clock::time_point asked_;
  std::chrono::milliseconds wait_{0};
  std::chrono::milliseconds pause_{1};
  std::unique_ptr<grpc::Alarm> alarm_;  // the pause before the next poll
};

GrpcNode::GrpcNode(std::string node_id, std::string address, std::shared_ptr<grpc::Channel> channel,
                   std::chrono::milliseconds lost_after, std::string authorization)
    : node_id_(std::move(node_id)),
      address_(std::move(address)),
      lost_after_(lost_after),
      authorization_(std::move(authorization)),
      stub_(dim::daemon::Daemon::NewStub(std::move(channel))) {}

core::Result<core::DryRunVerdict> GrpcNode::DryRun(const core::NodeTask& task) {
  dim::daemon::SubmitJobRequest req;
  ToRequest(task, &req);
  req.set_dry_run(true);
  dim::daemon::SubmitJobResponse resp;
  auto ctx = Context(kRpcDeadline, authorization_);
  const grpc::Status s = stub_->SubmitJob(ctx.get(), req, &resp);
  if (IsUnreachable(s)) {
    return core::Status::Unavailable("node '" + node_id_ + "' at " + address_ +
                                     " is unreachable (" + UnreachableReason(s.error_message()) +
                                     ")");
  }
  if (!s.ok()) return FromGrpc(s);
  if (!resp.has_dry_run()) {
    return core::Status::Unimplemented("node '" + node_id_ +
                                       "' does not answer dry runs (an older daemon?)");
  }
  const auto& v = resp.dry_run();
  core::DryRunVerdict out;
  out.epsilon = v.epsilon();
  out.has_budget = v.has_budget();
  out.budget_left = v.budget_left();
  if (!v.accepted()) {
    out.refusal = core::Status(core::ParseStatusCode(v.error().code()), v.error().message());
    if (out.refusal.ok())
      out.refusal = core::Status(core::StatusCode::kUnknown, v.error().message());
  }
  return out;
}

bool GrpcNode::StartTask(const core::NodeTask& task, const core::CancelToken& cancel,
                         std::chrono::milliseconds timeout, TaskDone& done) {
  (new TaskCalls(*this, task, cancel, timeout, std::move(done)))->Start();
  return true;
}

core::Result<core::TaskResult> GrpcNode::RunTask(const core::NodeTask& task,
                                                 const core::CancelToken& cancel,
                                                 std::chrono::milliseconds timeout) {
  return RunStartedTask(task, cancel, timeout);
}

}  // namespace dim::net
