// The PatternEngine gRPC service (callback API): Execute runs a whole job spec and answers
// when the job has ended; GetHealth answers at once. Served by the orchestrator process,
// over the same job engine as the Orchestrator service.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/engine/job_service.h"
#include "net/orchestrator_access.h"
#include "pattern_engine.grpc.pb.h"

namespace dim::net {

struct PatternEngineOptions {
  // Threads that wait on running jobs for Execute calls: so many calls wait at once, the
  // others queue (their jobs run meanwhile all the same).
  int waiters = 16;
  // Who may call Execute (not owned; null: anyone), as for the orchestrator's SubmitJob.
  OrchestratorAccess* access = nullptr;
};

// Execute(job_id, spec_json), with spec_json as core::ParseExecuteSpec reads it:
// - a bad request (job_id given: dim chooses job ids; a spec or config error, with its
//   JSON path from the spec's root; an unknown node, dataset or model) fails the call with
//   its gRPC code and the message, and no job is stored;
// - otherwise the job is stored and queued like SubmitJob, and the call answers OK once it
//   ends: job_id, and result_json when it COMPLETED, or error {code: "FAILED" |
//   "CANCELLED", message: the job's error} when it did not;
// - a caller that goes away (deadline, cancel) before the end cancels the job.
// GetHealth: status "healthy", pattern: the patterns this version runs, version.
//
// Thread-safety: gRPC calls the handlers from its threads; nothing in them blocks. The
// destructor answers the calls still waiting with UNAVAILABLE and joins the waiters, so the
// server must be shut down first.
class PatternEngineService final : public dim::pattern_engine::PatternEngine::CallbackService {
 public:
  PatternEngineService(core::JobService& jobs, PatternEngineOptions options = {});
  ~PatternEngineService() override;
  PatternEngineService(const PatternEngineService&) = delete;
  PatternEngineService& operator=(const PatternEngineService&) = delete;

  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* ctx,
                                    const dim::pattern_engine::ExecuteRequest* req,
                                    dim::pattern_engine::ExecuteResponse* resp) override;
  grpc::ServerUnaryReactor* GetHealth(grpc::CallbackServerContext* ctx,
                                      const dim::pattern_engine::GetHealthRequest* req,
                                      dim::pattern_engine::HealthResponse* resp) override;

 private:
  // Waits for the job to end (or the caller to leave, or the service to stop) and answers.
  void AwaitJob(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                std::string job_id, dim::pattern_engine::ExecuteResponse* resp);
  void WaiterLoop();

  core::JobService& jobs_;
  OrchestratorAccess* access_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> waiters_;
};

}  // namespace dim::net
