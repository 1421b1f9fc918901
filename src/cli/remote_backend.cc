// JobBackend over the Orchestrator gRPC service (net::OrchestratorClient).
#include "cli/job_backend.h"
#include "net/orchestrator_client.h"

namespace dim::cli {
namespace {

class RemoteBackend final : public JobBackend {
 public:
  RemoteBackend(const GlobalOptions& options, net::ClientSecurity security)
      : client_(options.server,
                std::chrono::milliseconds(static_cast<int64_t>(options.rpc_timeout_seconds * 1000)),
                std::move(security)) {}

  core::Result<core::JobRecord> Submit(const core::SubmitRequest& request) override {
    return client_.Submit(request);
  }
  core::Result<core::JobRecord> SubmitStreamed(const core::SubmitRequest& request,
                                               const core::RowSource& next,
                                               int64_t size_bytes) override {
    return client_.SubmitStreamed(request, next, size_bytes);
  }
  core::Status ReadOutputRows(const core::JobRecord& job, const core::RowSink& sink) override {
    return client_.ReadOutputRows(job.id, sink);
  }
  core::Result<std::vector<core::JobService::NodeDryRun>> DryRun(
      const core::SubmitRequest& request) override {
    return client_.DryRun(request);
  }
  core::Result<core::JobRecord> Get(const std::string& id) override { return client_.Get(id); }
  core::Result<core::JobPage> List(const core::JobQuery& query) override {
    return client_.List(query);
  }
  core::Result<core::JobRecord> Cancel(const std::string& id) override {
    return client_.Cancel(id);
  }
  // Follows the job's WatchJob stream: every change arrives as it is stored.
  core::Result<core::JobRecord> Wait(const std::string& id, std::chrono::milliseconds timeout,
                                     const ProgressFn& progress) override {
    return client_.Watch(id, timeout, progress);
  }
  core::Result<HealthReport> Health() override {
    DIM_ASSIGN_OR_RETURN(net::NodeList list, client_.ListNodes());
    HealthReport report;
    report.server = client_.address();
    report.status = "SERVING";
    report.version = std::move(list.version);
    report.nodes = std::move(list.nodes);
    return report;
  }

 private:
  net::OrchestratorClient client_;
};

}  // namespace

core::Result<std::unique_ptr<JobBackend>> MakeRemoteBackend(const GlobalOptions& options) {
  DIM_ASSIGN_OR_RETURN(net::ClientSecurity security, LoadClientSecurity(options));
  return std::unique_ptr<JobBackend>(std::make_unique<RemoteBackend>(options, std::move(security)));
}

}  // namespace dim::cli
