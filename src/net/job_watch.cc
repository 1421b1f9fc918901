#include "net/job_watch.h"

#include <grpcpp/alarm.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>

#include "net/grpc_status.h"
#include "net/job_convert.h"

namespace dim::net {
namespace {

using dim::orchestrator::JobStatusResponse;

// A job's progress (a change that is not its end) goes out at most this often: a watcher of
// a job over many nodes, or of many short jobs, is not sent a message per node task. The
// first state and the end go out at once.
constexpr auto kProgressInterval = std::chrono::milliseconds(100);

class WatchReactor final : public grpc::ServerWriteReactor<JobStatusResponse> {
 public:
  WatchReactor(core::JobService& jobs, const std::string& job_id, bool rows_as_tensor)
      : jobs_(jobs), rows_as_tensor_(rows_as_tensor) {
    auto handle = jobs_.Watch(job_id, [this](const core::JobRecord& job) { OnChange(job); });
    std::lock_guard lock(mu_);
    if (!handle.ok()) {
      FinishOnce(ToGrpc(handle.status()));
      return;
    }
    handle_ = *handle;
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok || cancelled_) {  // the reader went away
      FinishOnce(grpc::Status::CANCELLED);
      return;
    }
    WriteNextLocked();
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    if (!writing_) FinishOnce(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    // After Unwatch no call of OnChange runs or will run; a pending alarm still calls OnAlarm,
    // which then deletes `this`.
    jobs_.Unwatch(handle_);
    {
      std::lock_guard lock(mu_);
      done_ = true;
      if (alarm_set_) {
        alarm_->Cancel();
        return;
      }
    }
    delete this;
  }

 private:
  // Called under the job service's lock: only hands the record over (its rows are shared,
  // not copied); it becomes a message when it is written.
  void OnChange(const core::JobRecord& job) {
    std::lock_guard lock(mu_);
    if (finished_ || cancelled_) return;
    pending_ = job;
    if (!writing_) WriteNextLocked();
  }

  void OnAlarm() {
    {
      std::lock_guard lock(mu_);
      alarm_set_ = false;
      if (!done_) {
        if (!writing_ && !finished_ && !cancelled_) WriteNextLocked();
        return;
      }
    }
    delete this;
  }

  // Writes the pending record, unless it is progress that comes too soon after the last
  // write: then an alarm writes it (or what replaced it) at the interval's end.
  void WriteNextLocked() {
    if (!pending_) {
      if (ended_) FinishOnce(grpc::Status::OK);
      return;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool end = core::IsTerminal(pending_->state);
    if (!end && wrote_ && now < last_write_ + kProgressInterval) {
      if (!alarm_set_) {
        alarm_set_ = true;
        // A new alarm each time: gRPC does not promise that one can be set again.
        alarm_ = std::make_unique<grpc::Alarm>();
        alarm_->Set(std::chrono::system_clock::now() + (last_write_ + kProgressInterval - now),
                    [this](bool) { OnAlarm(); });
      }
      return;
    }
    current_.Clear();
    ToProto(*pending_, &current_, /*with_events=*/false, rows_as_tensor_);
    pending_.reset();
    ended_ = end;
    writing_ = true;
    wrote_ = true;
    last_write_ = now;
    StartWrite(&current_);
  }

  void FinishOnce(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  core::JobService& jobs_;
  const bool rows_as_tensor_;
  int64_t handle_ = 0;
  std::mutex mu_;
  std::optional<core::JobRecord> pending_;
  JobStatusResponse current_;
  bool writing_ = false;
  bool wrote_ = false;  // a write was started; last_write_ is when
  std::chrono::steady_clock::time_point last_write_;
  bool ended_ = false;                  // current_ carries the state the job ended in
  bool cancelled_ = false;              // the reader went away
  bool finished_ = false;               // Finish was called
  std::unique_ptr<grpc::Alarm> alarm_;  // writes held-back progress
  bool alarm_set_ = false;              // alarm_'s callback has yet to run
  bool done_ = false;                   // OnDone ran: the alarm's callback deletes `this`
};

}  // namespace

grpc::ServerWriteReactor<JobStatusResponse>* WatchJobReactor(
    core::JobService& jobs, const dim::orchestrator::WatchJobRequest& request) {
  return new WatchReactor(jobs, request.job_id(), request.rows_as_tensor());
}

}  // namespace dim::net
