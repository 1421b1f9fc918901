// The Orchestrator service's job calls, from a client (`dim submit | status | ls | cancel |
// health` without --local), in core types.
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/engine/job_service.h"
#include "core/node/node_client.h"
#include "net/security.h"
#include "orchestrator.grpc.pb.h"

namespace dim::net {

// What ListNodes answers.
struct NodeList {
  std::string version;
  std::vector<core::NodeDescription> nodes;
};

// Thread-safe. Every unary call has a deadline of `rpc_timeout`. Failures to reach the
// orchestrator (UNAVAILABLE, or no answer by the deadline) are UNAVAILABLE "cannot reach the
// orchestrator at ADDR: ..."; other errors are the orchestrator's.
class OrchestratorClient final {
 public:
  // `address`: the orchestrator's HOST:PORT, dialled at once (without blocking), over TLS
  // and with a token as `security` says.
  OrchestratorClient(std::string address, std::chrono::milliseconds rpc_timeout,
                     ClientSecurity security = {});

  const std::string& address() const { return address_; }

  // SubmitJob, then the job as GetJobStatus shows it.
  core::Result<core::JobRecord> Submit(const core::SubmitRequest& request);
  // SubmitJob with dry_run: each node's verdict; nothing is stored.
  core::Result<std::vector<core::JobService::NodeDryRun>> DryRun(
      const core::SubmitRequest& request);
  // SubmitJobStream: the job, then every chunk `next` gives; then the job as GetJobStatus
  // shows it. The stream's deadline is rpc_timeout plus a second for every MiB of
  // `size_bytes` (an hour when 0: not known).
  core::Result<core::JobRecord> SubmitStreamed(const core::SubmitRequest& request,
                                               const core::RowSource& next, int64_t size_bytes);
  // GetJobRows: each tensor the orchestrator sends, read as rows, to `sink` in order.
  core::Status ReadOutputRows(const std::string& id, const core::RowSink& sink);
  core::Result<core::JobRecord> Get(const std::string& id);
  core::Result<core::JobPage> List(const core::JobQuery& query);
  // CancelJob, then the job as GetJobStatus shows it.
  core::Result<core::JobRecord> Cancel(const std::string& id);
  // Follows the job's WatchJob stream until the job ends (DEADLINE_EXCEEDED "job 'x' is
  // still RUNNING" after `timeout`), calling `progress` (if set) with every state it sends.
  core::Result<core::JobRecord> Watch(const std::string& id, std::chrono::milliseconds timeout,
                                      const std::function<void(const core::JobRecord&)>& progress);
  core::Result<NodeList> ListNodes();

 private:
  // One unary call with the deadline, its status as Check makes it.
  core::Status Call(const std::function<grpc::Status(grpc::ClientContext*)>& call) const;
  core::Status Check(const grpc::Status& status) const;

  std::string address_;
  std::chrono::milliseconds rpc_timeout_;
  ClientSecurity security_;
  std::unique_ptr<dim::orchestrator::Orchestrator::Stub> stub_;
};

}  // namespace dim::net
