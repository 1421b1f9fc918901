#include "net/orchestrator_client.h"

#include <grpcpp/grpcpp.h>

#include <optional>

#include "net/grpc_status.h"
#include "net/job_convert.h"
#include "net/node_convert.h"
#include "net/tensor_codec.h"

namespace dim::net {
namespace {

namespace pb = dim::orchestrator;

// A job's result may hold a pipeline's output rows (up to 500000 numbers as JSON text):
// more than gRPC's default 4 MiB.
std::shared_ptr<grpc::Channel> Channel(const std::string& address, const ClientSecurity& security) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return security.Dial(address, args);
}

}  // namespace

OrchestratorClient::OrchestratorClient(std::string address, std::chrono::milliseconds rpc_timeout,
                                       ClientSecurity security)
    : address_(std::move(address)),
      rpc_timeout_(rpc_timeout),
      security_(std::move(security)),
      stub_(pb::Orchestrator::NewStub(Channel(address_, security_))) {}

core::Status OrchestratorClient::Call(
    const std::function<grpc::Status(grpc::ClientContext*)>& call) const {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + rpc_timeout_);
  security_.Authorize(ctx);
  return Check(call(&ctx));
}

core::Status OrchestratorClient::Check(const grpc::Status& status) const {
  // A unary call has no answer by its deadline only when the orchestrator is unreachable.
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return FromOrchestrator(grpc::Status(grpc::StatusCode::UNAVAILABLE, status.error_message()),
                            address_);
  }
  return FromOrchestrator(status, address_, ConnectionHint(status, security_));
}

core::Result<core::JobRecord> OrchestratorClient::Submit(const core::SubmitRequest& request) {
  pb::SubmitJobRequest req;
  req.set_user_id(request.user_id);
  req.set_pattern(static_cast<dim::common::Pattern>(request.pattern));
  req.set_config_json(request.config_json);
  req.set_priority(static_cast<dim::common::Priority>(request.priority));
  if (request.input_rows) ToTensor(*request.input_rows, req.mutable_input_rows());
  pb::SubmitJobResponse resp;
  DIM_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* ctx) { return stub_->SubmitJob(ctx, req, &resp); }));
  return Get(resp.job_id());
}

core::Result<core::JobRecord> OrchestratorClient::SubmitStreamed(const core::SubmitRequest& request,
                                                                 const core::RowSource& next,
                                                                 int64_t size_bytes) {
  pb::SubmitJobChunk first;
  pb::SubmitJobRequest* req = first.mutable_job();
  req->set_user_id(request.user_id);
  req->set_pattern(static_cast<dim::common::Pattern>(request.pattern));
  req->set_config_json(request.config_json);
  req->set_priority(static_cast<dim::common::Priority>(request.priority));
  grpc::ClientContext ctx;
  const auto allowed = size_bytes > 0 ? rpc_timeout_ + std::chrono::seconds(1 + (size_bytes >> 20))
                                      : std::chrono::milliseconds(std::chrono::hours(1));
  ctx.set_deadline(std::chrono::system_clock::now() + allowed);
  security_.Authorize(ctx);
  pb::SubmitJobResponse resp;
  auto writer = stub_->SubmitJobStream(&ctx, &resp);
  core::Status source = core::Status::Ok();
  // A write that fails means the orchestrator ended the call: its status says why.
  if (writer->Write(first)) {
    pb::SubmitJobChunk chunk;
    int64_t sent = 0;
    for (;;) {
      auto rows = next();
      if (!rows.ok()) {
        source = rows.status();
        ctx.TryCancel();
        break;
      }
      if (!*rows) {
        chunk.set_end(sent);  // without it the orchestrator stores nothing
        (void)writer->Write(chunk);
        break;
      }
      sent += (*rows)->rows;
      ToTensor(**rows, chunk.mutable_rows());
      if (!writer->Write(chunk)) break;
    }
  }
  (void)writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!source.ok()) return source;
  DIM_RETURN_IF_ERROR(Check(status));
  return Get(resp.job_id());
}

core::Status OrchestratorClient::ReadOutputRows(const std::string& id, const core::RowSink& sink) {
  pb::GetJobRowsRequest req;
  req.set_job_id(id);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
  security_.Authorize(ctx);
  auto reader = stub_->GetJobRows(&ctx, req);
  dim::common::Tensor tensor;
  core::Status taken = core::Status::Ok();
  while (reader->Read(&tensor)) {
    auto rows = ClientDataFromTensor(tensor, "rows", core::kMaxClientValues);
    taken = rows.ok() ? sink(*rows)
                      : rows.status().WithPrefix("the orchestrator at " + address_ + " sent");
    if (!taken.ok()) {
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status status = reader->Finish();
  if (!taken.ok()) return taken;
  return Check(status);
}

core::Result<std::vector<core::JobService::NodeDryRun>> OrchestratorClient::DryRun(
    const core::SubmitRequest& request) {
  pb::SubmitJobRequest req;
  req.set_user_id(request.user_id);
  req.set_pattern(static_cast<dim::common::Pattern>(request.pattern));
  req.set_config_json(request.config_json);
  req.set_priority(static_cast<dim::common::Priority>(request.priority));
  if (request.input_rows) ToTensor(*request.input_rows, req.mutable_input_rows());
  req.set_dry_run(true);
  pb::SubmitJobResponse resp;
  DIM_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* ctx) { return stub_->SubmitJob(ctx, req, &resp); }));
  if (resp.status() != "dry_run") {
    return core::Status::Unimplemented(
        "the orchestrator at " + address_ +
        " does not answer dry runs (it may have run the job: " + resp.job_id() + ")");
  }
  return DryRunFromProto(resp);
}

core::Result<core::JobRecord> OrchestratorClient::Get(const std::string& id) {
  pb::GetJobStatusRequest req;
  req.set_job_id(id);
  req.set_rows_as_tensor(true);
  pb::JobStatusResponse resp;
  DIM_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* ctx) { return stub_->GetJobStatus(ctx, req, &resp); }));
  return FromProto(resp);
}

core::Result<core::JobPage> OrchestratorClient::List(const core::JobQuery& query) {
  pb::ListJobsRequest req;
  req.set_user_id(query.user_id);
  req.set_status_filter(static_cast<dim::common::JobState>(query.state));
  req.set_limit(query.limit);
  req.set_offset(query.offset);
  pb::ListJobsResponse resp;
  DIM_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* ctx) { return stub_->ListJobs(ctx, req, &resp); }));
  core::JobPage page;
  page.total = resp.total();
  for (const auto& j : resp.jobs()) {
    DIM_ASSIGN_OR_RETURN(core::JobRecord job, FromProto(j));
    page.jobs.push_back(std::move(job));
  }
  return page;
}

core::Result<core::JobRecord> OrchestratorClient::Cancel(const std::string& id) {
  pb::CancelJobRequest req;
  req.set_job_id(id);
  pb::CancelJobResponse resp;
  DIM_RETURN_IF_ERROR(
      Call([&](grpc::ClientContext* ctx) { return stub_->CancelJob(ctx, req, &resp); }));
  return Get(id);
}

core::Result<core::JobRecord> OrchestratorClient::Watch(
    const std::string& id, std::chrono::milliseconds timeout,
    const std::function<void(const core::JobRecord&)>& progress) {
  pb::WatchJobRequest req;
  req.set_job_id(id);
  req.set_rows_as_tensor(true);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  security_.Authorize(ctx);
  auto reader = stub_->WatchJob(&ctx, req);
  std::optional<core::JobRecord> last;
  pb::JobStatusResponse message;
  while (reader->Read(&message)) {
    auto got = FromProto(message);
    if (!got.ok()) {
      ctx.TryCancel();
      (void)reader->Finish();
      return got.status().WithPrefix("the orchestrator at " + address_ + " sent");
    }
    last = *std::move(got);
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

core::Result<NodeList> OrchestratorClient::ListNodes() {
  pb::ListNodesResponse resp;
  DIM_RETURN_IF_ERROR(Call([&](grpc::ClientContext* ctx) {
    return stub_->ListNodes(ctx, pb::ListNodesRequest{}, &resp);
  }));
  NodeList list;
  list.version = resp.version();
  for (const auto& n : resp.nodes()) list.nodes.push_back(FromProto(n));
  return list;
}

}  // namespace dim::net
