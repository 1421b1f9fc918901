#include "net/job_watch.h"

#include <memory>
#include <mutex>
#include <optional>

#include "net/grpc_status.h"
#include "net/job_convert.h"

namespace dim::net {
namespace {

using dim::orchestrator::JobStatusResponse;

class WatchReactor final : public grpc::ServerWriteReactor<JobStatusResponse> {
 public:
  WatchReactor(core::JobService& jobs, const std::string& job_id) : jobs_(jobs) {
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
    // After Unwatch no call of OnChange runs or will run, so `this` may go.
    jobs_.Unwatch(handle_);
    delete this;
  }

 private:
  // Called under the job service's lock: only hands the record over.
  void OnChange(const core::JobRecord& job) {
    std::lock_guard lock(mu_);
    if (finished_ || cancelled_) return;
    pending_.emplace();
    ToProto(job, &*pending_);
    if (!writing_) WriteNextLocked();
  }

  void WriteNextLocked() {
    if (!pending_) {
      if (ended_) FinishOnce(grpc::Status::OK);
      return;
    }
    current_ = std::move(*pending_);
    pending_.reset();
    ended_ = core::IsTerminal(static_cast<core::JobState>(current_.status()));
    writing_ = true;
    StartWrite(&current_);
  }

  void FinishOnce(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  core::JobService& jobs_;
  int64_t handle_ = 0;
  std::mutex mu_;
  std::optional<JobStatusResponse> pending_;
  JobStatusResponse current_;
  bool writing_ = false;
  bool ended_ = false;      // current_ carries the state the job ended in
  bool cancelled_ = false;  // the reader went away
  bool finished_ = false;   // Finish was called
};

}  // namespace

grpc::ServerWriteReactor<JobStatusResponse>* WatchJobReactor(
    core::JobService& jobs, const dim::orchestrator::WatchJobRequest& request) {
  return new WatchReactor(jobs, request.job_id());
}

}  // namespace dim::net
