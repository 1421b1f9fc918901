// The Daemon gRPC service (callback API): a node's datasets, models and task queue.
#pragma once

#include <map>
#include <string>

#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/task_queue.h"
#include "daemon.grpc.pb.h"
#include "net/security.h"

namespace dim::net {

// Handlers only touch the queue's bookkeeping; tasks run on the queue's workers.
// GetJobStatus with wait_ms > 0 answers when the task ends or after wait_ms (cut to a minute,
// and to just before the caller's deadline), whichever comes first, holding no thread while
// it waits; wait_ms 0 (what older orchestrators send) answers at once. SubmitJob with wait_ms
// > 0 queues the task and then waits the same way, answering with the task's status in
// SubmitJobResponse.task: a short task costs one call.
class DaemonService final : public dim::daemon::Daemon::CallbackService {
 public:
  DaemonService(std::string node_id, core::ModelRepository& models,
                const core::DatasetCatalog& datasets, core::TaskQueue& tasks,
                int max_concurrent_jobs);

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* ctx,
                                      const dim::daemon::SubmitJobRequest* req,
                                      dim::daemon::SubmitJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetJobStatus(grpc::CallbackServerContext* ctx,
                                         const dim::daemon::GetJobStatusRequest* req,
                                         dim::daemon::JobStatusResponse* resp) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* ctx,
                                      const dim::daemon::CancelJobRequest* req,
                                      dim::daemon::CancelJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetHealth(grpc::CallbackServerContext* ctx,
                                      const dim::daemon::GetHealthRequest* req,
                                      dim::daemon::HealthResponse* resp) override;
  grpc::ServerUnaryReactor* GetStats(grpc::CallbackServerContext* ctx,
                                     const dim::daemon::GetStatsRequest* req,
                                     dim::daemon::StatsResponse* resp) override;
  grpc::ServerUnaryReactor* DescribeNode(grpc::CallbackServerContext* ctx,
                                         const dim::daemon::DescribeNodeRequest* req,
                                         dim::daemon::DescribeNodeResponse* resp) override;

  // The node's labels (--label KEY=VALUE), reported for node selection. Before serving.
  void SetLabels(std::map<std::string, std::string> labels) { labels_ = std::move(labels); }
  // Who may call SubmitJob, GetJobStatus, CancelJob, DescribeNode and GetStats (GetHealth and
  // grpc.health.v1 stay open). Before serving; default: anyone.
  void SetTaskCallers(TaskCallerCheck callers) { callers_ = std::move(callers); }
  // The node's custody, whose rules and budgets Describe reports per dataset. Before serving.
  void SetCustody(core::NodeCustody* custody) { custody_ = custody; }

  // The same description the node sends when it registers (and, partly, in heartbeats).
  void Describe(dim::daemon::DescribeNodeResponse* out) const;

 private:
  std::string node_id_;
  core::ModelRepository& models_;
  const core::DatasetCatalog& datasets_;
  core::TaskQueue& tasks_;
  int max_concurrent_jobs_;
  std::map<std::string, std::string> labels_;
  TaskCallerCheck callers_;
  core::NodeCustody* custody_ = nullptr;

  // callers_.Check, logged when it refuses.
  core::Status Refused(const grpc::ServerContextBase& ctx, std::string_view method) const;
};

// Fills the machine's resources (cores, memory, load).
void FillResources(dim::daemon::ResourceStatus* out);

}  // namespace dim::net
