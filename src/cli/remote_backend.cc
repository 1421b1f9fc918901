// JobBackend over the Orchestrator gRPC service.
#include <grpcpp/grpcpp.h>

#include <optional>

#include "cli/job_backend.h"
#include "net/grpc_status.h"
#include "net/job_convert.h"
#include "net/node_convert.h"
#include "orchestrator.grpc.pb.h"

namespace dim::cli {
namespace {

namespace pb = dim::orchestrator;

// A job's result may hold a pipeline's output rows (up to 500000 numbers as JSON text):
// more than gRPC's default 4 MiB.
std::shared_ptr<grpc::Channel> Channel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

class RemoteBackend final : public JobBackend {
 public:
  explicit RemoteBackend(const GlobalOptions& options)
      : address_(options.server),
        deadline_(std::chrono::milliseconds(
            static_cast<int64_t>(options.rpc_timeout_seconds * 1000))),
        stub_(pb::Orchestrator::NewStub(Channel(address_))) {}

  core::Result<core::JobRecord> Submit(const core::SubmitRequest& request) override {
    pb::SubmitJobRequest req;
    req.set_user_id(request.user_id);
    req.set_pattern(static_cast<dim::common::Pattern>(request.pattern));
    req.set_config_json(request.config_json);
    req.set_priority(static_cast<dim::common::Priority>(request.priority));
    pb::SubmitJobResponse resp;
    auto ctx = Context();
    DIM_RETURN_IF_ERROR(Check(stub_->SubmitJob(ctx.get(), req, &resp)));
    return Get(resp.job_id());
  }

  core::Result<core::JobRecord> Get(const std::string& id) override {
    pb::GetJobStatusRequest req;
    req.set_job_id(id);
    pb::JobStatusResponse resp;
    auto ctx = Context();
    DIM_RETURN_IF_ERROR(Check(stub_->GetJobStatus(ctx.get(), req, &resp)));
    return net::FromProto(resp);
  }

  core::Result<core::JobPage> List(const core::JobQuery& query) override {
    pb::ListJobsRequest req;
    req.set_user_id(query.user_id);
    req.set_status_filter(static_cast<dim::common::JobState>(query.state));
    req.set_limit(query.limit);
    req.set_offset(query.offset);
    pb::ListJobsResponse resp;
    auto ctx = Context();
    DIM_RETURN_IF_ERROR(Check(stub_->ListJobs(ctx.get(), req, &resp)));
    core::JobPage page;
    page.total = resp.total();
    for (const auto& j : resp.jobs()) page.jobs.push_back(net::FromProto(j));
    return page;
  }

  core::Result<core::JobRecord> Cancel(const std::string& id) override {
    pb::CancelJobRequest req;
    req.set_job_id(id);
    pb::CancelJobResponse resp;
    auto ctx = Context();
    DIM_RETURN_IF_ERROR(Check(stub_->CancelJob(ctx.get(), req, &resp)));
    return Get(id);
  }

  // Follows the job's WatchJob stream: every change arrives as it is stored.
  core::Result<core::JobRecord> Wait(const std::string& id, std::chrono::milliseconds timeout,
                                     const ProgressFn& progress) override {
    pb::WatchJobRequest req;
    req.set_job_id(id);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    auto reader = stub_->WatchJob(&ctx, req);
    std::optional<core::JobRecord> last;
    pb::JobStatusResponse message;
    while (reader->Read(&message)) {
      last = net::FromProto(message);
      if (progress) progress(*last);
    }
    grpc::Status status = reader->Finish();
    if (last && core::IsTerminal(last->state)) return *last;
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && last) {
      return core::Status::DeadlineExceeded("job '" + id + "' is still " +
                                            std::string(core::JobStateName(last->state)));
    }
    if (status.ok()) {
      return core::Status::Unavailable("the orchestrator at " + address_ +
                                       " ended the watch of job '" + id + "' before it ended");
    }
    return Check(status);
  }

  core::Result<HealthReport> Health() override {
    pb::ListNodesResponse resp;
    auto ctx = Context();
    DIM_RETURN_IF_ERROR(Check(stub_->ListNodes(ctx.get(), pb::ListNodesRequest{}, &resp)));
    HealthReport report;
    report.server = address_;
    report.status = "SERVING";
    report.version = resp.version();
    for (const auto& n : resp.nodes()) report.nodes.push_back(net::FromProto(n));
    return report;
  }

 private:
  std::unique_ptr<grpc::ClientContext> Context() const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + deadline_);
    return ctx;
  }

  core::Status Check(const grpc::Status& status) const {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
        (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) {
      return core::Status::Unavailable("cannot reach the orchestrator at " + address_ + ": " +
                                       status.error_message());
    }
    return net::FromGrpc(status);
  }

  std::string address_;
  std::chrono::milliseconds deadline_;
  std::unique_ptr<pb::Orchestrator::Stub> stub_;
};

}  // namespace

std::unique_ptr<JobBackend> MakeRemoteBackend(const GlobalOptions& options) {
  return std::make_unique<RemoteBackend>(options);
}

}  // namespace dim::cli
