// The Orchestrator gRPC service (callback API) over the job engine and the node registry.
#pragma once

#include "core/engine/job_service.h"
#include "core/models/model_store.h"
#include "core/node/thread_pool.h"
#include "net/job_rows_rpcs.h"
#include "net/model_store_rpcs.h"
#include "net/node_registry.h"
#include "net/orchestrator_access.h"
#include "orchestrator.grpc.pb.h"

namespace dim::net {

// Every handler answers from memory or the job store; none waits on a node.
class OrchestratorService final : public dim::orchestrator::Orchestrator::CallbackService {
 public:
  // `models`: the model store behind PushModel, ListModels and FetchModel (not owned; null:
  // those calls fail with UNIMPLEMENTED). `access`: who may do what (not owned; null:
  // everyone may do everything).
  OrchestratorService(core::JobService& jobs, NodeRegistry& registry,
                      core::ModelStore* models = nullptr, OrchestratorAccess* access = nullptr);

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* ctx,
                                      const dim::orchestrator::SubmitJobRequest* req,
                                      dim::orchestrator::SubmitJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetJobStatus(grpc::CallbackServerContext* ctx,
                                         const dim::orchestrator::GetJobStatusRequest* req,
                                         dim::orchestrator::JobStatusResponse* resp) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* ctx,
                                      const dim::orchestrator::CancelJobRequest* req,
                                      dim::orchestrator::CancelJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetJobResult(grpc::CallbackServerContext* ctx,
                                         const dim::orchestrator::GetJobResultRequest* req,
                                         dim::orchestrator::JobResultResponse* resp) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext* ctx,
                                     const dim::orchestrator::ListJobsRequest* req,
                                     dim::orchestrator::ListJobsResponse* resp) override;
  grpc::ServerUnaryReactor* RegisterNode(grpc::CallbackServerContext* ctx,
                                         const dim::orchestrator::RegisterNodeRequest* req,
                                         dim::orchestrator::RegisterNodeResponse* resp) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* ctx,
                                      const dim::orchestrator::HeartbeatRequest* req,
                                      dim::orchestrator::HeartbeatResponse* resp) override;
  grpc::ServerUnaryReactor* DeregisterNode(grpc::CallbackServerContext* ctx,
                                           const dim::orchestrator::DeregisterNodeRequest* req,
                                           dim::orchestrator::DeregisterNodeResponse* resp) override;
  grpc::ServerUnaryReactor* ListNodes(grpc::CallbackServerContext* ctx,
                                      const dim::orchestrator::ListNodesRequest* req,
                                      dim::orchestrator::ListNodesResponse* resp) override;
  grpc::ServerWriteReactor<dim::orchestrator::JobStatusResponse>* WatchJob(
      grpc::CallbackServerContext* ctx, const dim::orchestrator::WatchJobRequest* req) override;

  // Rows in chunks (job_rows_rpcs.h).
  grpc::ServerReadReactor<dim::orchestrator::SubmitJobChunk>* SubmitJobStream(
      grpc::CallbackServerContext* ctx, dim::orchestrator::SubmitJobResponse* resp) override;
  grpc::ServerWriteReactor<dim::common::Tensor>* GetJobRows(
      grpc::CallbackServerContext* ctx, const dim::orchestrator::GetJobRowsRequest* req) override;

  // Models (ModelStoreRpcs).
  grpc::ServerReadReactor<dim::orchestrator::PushModelRequest>* PushModel(
      grpc::CallbackServerContext* ctx, dim::orchestrator::PushModelResponse* resp) override;
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* ctx,
                                       const dim::orchestrator::ListModelsRequest* req,
                                       dim::orchestrator::ListModelsResponse* resp) override;
  grpc::ServerWriteReactor<dim::orchestrator::ModelChunk>* FetchModel(
      grpc::CallbackServerContext* ctx, const dim::orchestrator::FetchModelRequest* req) override;

 private:
  // The job `id` as `caller` may see it: another user's job is NOT_FOUND (audited).
  core::Result<core::JobRecord> VisibleJob(const Caller& caller, std::string_view method,
                                           const std::string& id);
  // SubmitJob's checks of a request (the owner the caller may submit as, config size,
  // pattern, priority), giving the job to submit without its rows.
  core::Result<core::SubmitRequest> CheckSubmit(const Caller& caller,
                                                const dim::orchestrator::SubmitJobRequest& req);

  core::JobService& jobs_;
  NodeRegistry& registry_;
  ModelStoreRpcs models_;
  std::unique_ptr<OrchestratorAccess> open_access_;  // when none was given
  OrchestratorAccess& access_;
  // Store work of streamed rows (job_rows_rpcs.h); declared last, so joined first.
  core::ThreadPool rows_threads_{2};
};

}  // namespace dim::net
