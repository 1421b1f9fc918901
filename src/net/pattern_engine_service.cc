#include "net/pattern_engine_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include "core/job/config_reader.h"
#include "core/job/execute_spec.h"
#include "net/grpc_status.h"

namespace dim::net {
namespace {

// How often a waiting call looks at whether its caller is still there.
constexpr std::chrono::milliseconds kWaitSlice{200};
// As SubmitJob: a spec is a config and a few words.

}  // namespace

PatternEngineService::PatternEngineService(core::JobService& jobs, PatternEngineOptions options)
    : jobs_(jobs), access_(options.access) {
  for (int i = 0; i < std::max(1, options.waiters); ++i) {
    waiters_.emplace_back([this] { WaiterLoop(); });
  }
}

PatternEngineService::~PatternEngineService() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : waiters_) t.join();
}

grpc::ServerUnaryReactor* PatternEngineService::Execute(
    grpc::CallbackServerContext* ctx, const dim::pattern_engine::ExecuteRequest* req,
    dim::pattern_engine::ExecuteResponse* resp) {
  const auto reject = [&](const core::Status& status) {
    spdlog::info("execute rejected: {}", status.ToString());
    FillError(status, resp->mutable_error());
    return FinishUnary(ctx, status);
  };
  std::optional<Caller> caller;
  if (access_ != nullptr) {
    auto who = access_->User(*ctx, "Execute");
    if (!who.ok()) return reject(who.status());
    caller = std::move(*who);
  }
  if (!req->job_id().empty()) {
    return reject(core::Status::InvalidArgument(
        "job_id: dim chooses job ids; leave it empty (the response carries the job's id)"));
  }
  if (req->spec_json().size() > core::kMaxConfigBytes) {
    return reject(core::Status::InvalidArgument(std::string("spec_json: larger than ") +
                                                core::kMaxConfigText));
  }
  auto spec = core::ParseExecuteSpec(req->spec_json());
  if (!spec.ok()) return reject(spec.status().WithPrefix("spec_json"));
  core::SubmitRequest submit;
  submit.user_id = spec->user_id;
  if (caller) {
    auto owner = OrchestratorAccess::JobOwner(*caller, spec->user_id);
    if (!owner.ok()) {
      access_->Audit(*caller, "Execute", {}, {}, owner.status());
      return reject(owner.status());
    }
    submit.user_id = *owner;
  }
  submit.pattern = spec->pattern;
  submit.config_json = spec->config_json;
  submit.priority = spec->priority;
  auto job = jobs_.Submit(submit);
  if (caller) access_->Audit(*caller, "Execute", job.ok() ? job->id : "", {}, job.status());
  if (!job.ok()) return reject(core::LocateConfigError(job.status()).WithPrefix("spec_json"));
  spdlog::info("job {} submitted by '{}' through Execute ({}, {} nodes)", job->id, job->user_id,
               core::PatternName(job->pattern), job->total_steps);

  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is stopping"));
      return reactor;
    }
    queue_.push_back([this, ctx, reactor, id = job->id, resp] { AwaitJob(ctx, reactor, id, resp); });
  }
  cv_.notify_one();
  return reactor;
}

void PatternEngineService::AwaitJob(grpc::CallbackServerContext* ctx,
                                    grpc::ServerUnaryReactor* reactor, std::string job_id,
                                    dim::pattern_engine::ExecuteResponse* resp) {
  resp->set_job_id(job_id);
  for (;;) {
    auto job = jobs_.Wait(job_id, kWaitSlice);
    if (job.ok()) {
      if (job->state == core::JobState::kCompleted) {
        resp->set_result_json(core::JobResultJson(*job));
      } else {
        resp->mutable_error()->set_code(job->state == core::JobState::kCancelled ? "CANCELLED"
                                                                                 : "FAILED");
        resp->mutable_error()->set_message(job->error);
      }
      reactor->Finish(grpc::Status::OK);
      return;
    }
    if (job.status().code() != core::StatusCode::kDeadlineExceeded) {
      reactor->Finish(ToGrpc(job.status()));
      return;
    }
    bool stopping;
    {
      std::lock_guard lock(mu_);
      stopping = stopping_;
    }
    if (stopping) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is stopping"));
      return;
    }
    if (ctx->IsCancelled()) {
      // Nobody is left to read the result of a synchronous call.
      spdlog::info("job {}: the Execute caller went away; cancelling the job", job_id);
      (void)jobs_.Cancel(job_id);
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled"));
      return;
    }
  }
}

void PatternEngineService::WaiterLoop() {
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to answer
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

grpc::ServerUnaryReactor* PatternEngineService::GetHealth(
    grpc::CallbackServerContext* ctx, const dim::pattern_engine::GetHealthRequest* /*req*/,
    dim::pattern_engine::HealthResponse* resp) {
  resp->set_status("healthy");
  resp->set_pattern("collaborative,comparative,chained");
  resp->set_version(DIM_VERSION);
  return FinishUnary(ctx, core::Status::Ok());
}

}  // namespace dim::net
