#include "net/orchestrator_service.h"

#include <spdlog/spdlog.h>

#include "core/clock.h"
#include "core/job/config_reader.h"
#include "core/text.h"
#include "net/grpc_status.h"
#include "net/job_convert.h"
#include "net/job_watch.h"
#include "net/node_convert.h"
#include "net/tensor_codec.h"

namespace dim::net {
namespace {

using dim::orchestrator::ListNodesResponse;

const core::Clock& SystemClock() {
  static const core::SystemClock clock;
  return clock;
}

// The most jobs one ListJobs page may hold (dim ls --limit allows as many).
constexpr int kMaxListLimit = 1000;

}  // namespace

OrchestratorService::OrchestratorService(core::JobService& jobs, NodeRegistry& registry,
                                         core::ModelStore* models, OrchestratorAccess* access)
    : jobs_(jobs),
      registry_(registry),
      models_(models),
      open_access_(access == nullptr ? std::make_unique<OrchestratorAccess>(SystemClock())
                                     : nullptr),
      access_(access == nullptr ? *open_access_ : *access) {}

core::Result<core::JobRecord> OrchestratorService::VisibleJob(const Caller& caller,
                                                              std::string_view method,
                                                              const std::string& id) {
  auto job = jobs_.Get(id);
  if (!job.ok() || OrchestratorAccess::MaySee(caller, job->user_id)) return job;
  // The same answer as for a job that does not exist: its existence is not revealed.
  core::Status hidden = core::Status::NotFound("job '" + core::Snippet(id) + "' not found");
  spdlog::warn("{} of job {} by '{}' refused: the job is user '{}''s", method, id, caller.name,
               job->user_id);
  access_.Audit(caller, method, id, {}, hidden);
  return hidden;
}

grpc::ServerUnaryReactor* OrchestratorService::SubmitJob(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::SubmitJobRequest* req,
    dim::orchestrator::SubmitJobResponse* resp) {
  auto caller = access_.User(*ctx, "SubmitJob");
  if (!caller.ok()) {
    FillError(caller.status(), resp->mutable_error());
    if (OrchestratorAccess::IsRateLimited(caller.status())) {
      resp->mutable_error()->set_code(std::string(kRateLimitExceeded));
    }
    return FinishUnary(ctx, caller.status());
  }
  auto checked = CheckSubmit(*caller, *req);
  core::Status status = checked.status();
  if (checked.ok()) {
    core::SubmitRequest& submit = *checked;
    if (req->has_input_rows()) {
      auto rows = ClientDataFromTensor(req->input_rows(), "input_rows", core::kMaxClientValues);
      if (!rows.ok()) {
        status = rows.status();
        spdlog::info("job rejected: {}", status.ToString());
        access_.Audit(*caller, "SubmitJob", {}, {}, status);
        FillError(status, resp->mutable_error());
        return FinishUnary(ctx, status);
      }
      submit.input_rows = std::make_shared<const core::ClientData>(*std::move(rows));
    }
    if (req->dry_run()) {
      auto report = jobs_.DryRun(submit);
      if (report.ok()) {
        ToProto(*report, resp);
        resp->set_status("dry_run");
        return FinishUnary(ctx, core::Status::Ok());
      }
      FillError(report.status(), resp->mutable_error());
      return FinishUnary(ctx, report.status());
    }
    auto job = jobs_.Submit(submit);
    if (job.ok()) {
      resp->set_job_id(job->id);
      resp->set_status(std::string(core::JobStateName(job->state)));
      spdlog::info("job {} submitted by '{}' ({}, {} nodes)", job->id, job->user_id,
                   core::PatternName(job->pattern), job->total_steps);
      access_.Audit(*caller, "SubmitJob", job->id, {}, core::Status::Ok());
      return FinishUnary(ctx, core::Status::Ok());
    }
    status = job.status();
  }
  spdlog::info("job rejected: {}", status.ToString());
  access_.Audit(*caller, "SubmitJob", {}, {}, status);
  FillError(status, resp->mutable_error());
  return FinishUnary(ctx, status);
}

core::Result<core::SubmitRequest> OrchestratorService::CheckSubmit(
    const Caller& caller, const dim::orchestrator::SubmitJobRequest& req) {
  DIM_ASSIGN_OR_RETURN(std::string owner, OrchestratorAccess::JobOwner(caller, req.user_id()));
  if (req.config_json().size() > core::kMaxConfigBytes) {
    return core::Status::InvalidArgument(std::string("config_json: larger than ") +
                                         core::kMaxConfigText);
  }
  if (!dim::common::Pattern_IsValid(req.pattern()) ||
      req.pattern() == dim::common::PATTERN_UNSPECIFIED) {
    return core::Status::InvalidArgument(
        "pattern: must be PATTERN_COLLABORATIVE (1), PATTERN_COMPARATIVE (2) or PATTERN_CHAINED "
        "(3), got " +
        std::to_string(req.pattern()));
  }
  if (!dim::common::Priority_IsValid(req.priority())) {
    return core::Status::InvalidArgument(
        "priority: must be PRIORITY_LOW (1), PRIORITY_NORMAL (2) or PRIORITY_HIGH (3) (0: normal), "
        "got " +
        std::to_string(req.priority()));
  }
  core::SubmitRequest submit;
  submit.user_id = std::move(owner);
  submit.pattern = static_cast<core::Pattern>(req.pattern());
  submit.config_json = req.config_json();
  submit.priority = static_cast<core::Priority>(req.priority());
  return submit;
}

grpc::ServerReadReactor<dim::orchestrator::SubmitJobChunk>* OrchestratorService::SubmitJobStream(
    grpc::CallbackServerContext* ctx, dim::orchestrator::SubmitJobResponse* resp) {
  auto caller = access_.User(*ctx, "SubmitJobStream");
  if (!caller.ok()) {
    FillError(caller.status(), resp->mutable_error());
    if (OrchestratorAccess::IsRateLimited(caller.status())) {
      resp->mutable_error()->set_code(std::string(kRateLimitExceeded));
    }
    return RefuseRead<dim::orchestrator::SubmitJobChunk>(caller.status());
  }
  return SubmitJobStreamReactor(
      jobs_, rows_threads_, ctx, resp,
      [this, caller = *caller](const dim::orchestrator::SubmitJobRequest& req) {
        return CheckSubmit(caller, req);
      },
      [this, caller = *caller](const core::Result<core::JobRecord>& job) {
        access_.Audit(caller, "SubmitJobStream", job.ok() ? job->id : std::string(), {},
                      job.status());
      });
}

grpc::ServerWriteReactor<dim::common::Tensor>* OrchestratorService::GetJobRows(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::GetJobRowsRequest* req) {
  auto caller = access_.User(*ctx, "GetJobRows", req->job_id());
  if (!caller.ok()) return RefuseWrite<dim::common::Tensor>(caller.status());
  auto job = VisibleJob(*caller, "GetJobRows", req->job_id());
  if (!job.ok()) return RefuseWrite<dim::common::Tensor>(job.status());
  return JobRowsReactor(jobs_, rows_threads_, *std::move(job));
}

grpc::ServerWriteReactor<dim::orchestrator::JobStatusResponse>* OrchestratorService::WatchJob(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::WatchJobRequest* req) {
  using Response = dim::orchestrator::JobStatusResponse;
  auto caller = access_.User(*ctx, "WatchJob", req->job_id());
  if (!caller.ok()) return RefuseWrite<Response>(caller.status());
  if (caller->authenticated()) {
    auto job = VisibleJob(*caller, "WatchJob", req->job_id());
    if (!job.ok()) return RefuseWrite<Response>(job.status());
  }
  return WatchJobReactor(jobs_, *req);
}

grpc::ServerUnaryReactor* OrchestratorService::GetJobStatus(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::GetJobStatusRequest* req,
    dim::orchestrator::JobStatusResponse* resp) {
  auto caller = access_.User(*ctx, "GetJobStatus", req->job_id());
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  auto job = VisibleJob(*caller, "GetJobStatus", req->job_id());
  if (!job.ok()) return FinishUnary(ctx, job.status());
  ToProto(*job, resp, /*with_events=*/true, req->rows_as_tensor());
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* OrchestratorService::CancelJob(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::CancelJobRequest* req,
    dim::orchestrator::CancelJobResponse* resp) {
  const auto refuse = [&](const core::Status& status) {
    resp->set_success(false);
    resp->set_message(status.message());
    FillError(status, resp->mutable_error());
    if (OrchestratorAccess::IsRateLimited(status)) {
      resp->mutable_error()->set_code(std::string(kRateLimitExceeded));
    }
    return FinishUnary(ctx, status);
  };
  auto caller = access_.User(*ctx, "CancelJob", req->job_id());
  if (!caller.ok()) return refuse(caller.status());
  if (caller->authenticated()) {
    auto visible = VisibleJob(*caller, "CancelJob", req->job_id());
    if (!visible.ok()) return refuse(visible.status());
  }
  auto job = jobs_.Cancel(req->job_id(), OrchestratorAccess::Who(*caller));
  access_.Audit(*caller, "CancelJob", req->job_id(), {}, job.status());
  if (!job.ok()) return refuse(job.status());
  spdlog::info("job {} cancelled{}", job->id,
               caller->authenticated() ? " by " + OrchestratorAccess::Who(*caller) : "");
  resp->set_success(true);
  resp->set_message("job " + job->id + " cancelled");
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* OrchestratorService::GetJobResult(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::GetJobResultRequest* req,
    dim::orchestrator::JobResultResponse* resp) {
  auto caller = access_.User(*ctx, "GetJobResult", req->job_id());
  if (!caller.ok()) {
    FillError(caller.status(), resp->mutable_error());
    return FinishUnary(ctx, caller.status());
  }
  auto job = VisibleJob(*caller, "GetJobResult", req->job_id());
  if (!job.ok()) return FinishUnary(ctx, job.status());
  resp->set_job_id(job->id);
  resp->set_status(static_cast<dim::common::JobState>(job->state));
  if (job->state != core::JobState::kCompleted) {
    core::Status status =
        job->state == core::JobState::kFailed || job->state == core::JobState::kCancelled
            ? core::Status::FailedPrecondition("job '" + job->id + "' ended " +
                                               std::string(core::JobStateName(job->state)) +
                                               ": " + job->error)
            : core::Status::FailedPrecondition("job '" + job->id + "' is " +
                                               std::string(core::JobStateName(job->state)) +
                                               "; it has no result yet");
    FillError(status, resp->mutable_error());
    return FinishUnary(ctx, status);
  }
  SetResult(*job, req->rows_as_tensor(), resp->mutable_result_json(),
            req->rows_as_tensor() && job->output_rows ? resp->mutable_output_rows() : nullptr);
  if (job->output_stream) {
    resp->add_streamed_output_shape(job->output_stream->rows);
    resp->add_streamed_output_shape(job->output_stream->width);
  }
  auto* meta = resp->mutable_metadata();
  int used = 0;
  double total = 0;
  for (const auto& n : job->nodes) {
    if (n.state == core::TaskState::kCompleted) ++used;
    total += n.execution_seconds;
  }
  meta->set_nodes_used(used);
  meta->set_total_execution_time(core::FormatDuration(total));
  meta->set_completed_at(job->completed_at);
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* OrchestratorService::ListJobs(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::ListJobsRequest* req,
    dim::orchestrator::ListJobsResponse* resp) {
  auto caller = access_.User(*ctx, "ListJobs");
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  if (!caller->admin() && !req->user_id().empty() && req->user_id() != caller->name) {
    return FinishUnary(ctx, core::Status::PermissionDenied(
                                "user_id '" + core::Snippet(req->user_id()) + "': you are '" +
                                caller->name + "' and see only your own jobs"));
  }
  if (!dim::common::JobState_IsValid(req->status_filter())) {
    return FinishUnary(ctx, core::Status::InvalidArgument("status_filter: not a JobState, got " +
                                                          std::to_string(req->status_filter())));
  }
  if (req->limit() < 0 || req->limit() > kMaxListLimit) {
    return FinishUnary(ctx,
                       core::Status::InvalidArgument("limit: must be from 0 (the default, 20) to " +
                                                     std::to_string(kMaxListLimit) + ", got " +
                                                     std::to_string(req->limit())));
  }
  if (req->offset() < 0) {
    return FinishUnary(ctx, core::Status::InvalidArgument("offset: must not be negative, got " +
                                                          std::to_string(req->offset())));
  }
  core::JobQuery query;
  // A user lists only their own jobs; an admin (or anyone, without authentication) any.
  query.user_id = caller->admin() ? req->user_id() : caller->name;
  query.state = static_cast<core::JobState>(req->status_filter());
  query.limit = req->limit() == 0 ? 20 : req->limit();
  query.offset = req->offset();
  auto page = jobs_.List(query);
  if (!page.ok()) return FinishUnary(ctx, page.status());
  for (const auto& job : page->jobs) {
    auto* out = resp->add_jobs();
    ToProto(job, out);
    // The list is an index: a page of pipelines that return their rows could run to
    // gigabytes. GetJobStatus and GetJobResult carry each job's result.
    out->clear_result_json();
  }
  resp->set_total(static_cast<int32_t>(page->total));
  resp->set_limit(query.limit);
  resp->set_offset(query.offset);
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* OrchestratorService::RegisterNode(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::RegisterNodeRequest* req,
    dim::orchestrator::RegisterNodeResponse* resp) {
  auto caller = access_.Node(*ctx, "RegisterNode", req->node_id());
  if (!caller.ok()) {
    FillError(caller.status(), resp->mutable_error());
    return FinishUnary(ctx, caller.status());
  }
  core::Status status = registry_.Register(*req);
  access_.Audit(*caller, "RegisterNode", {}, core::Snippet(req->node_id()), status);
  if (!status.ok()) {
    spdlog::warn("node registration refused: {}", status.ToString());
    FillError(status, resp->mutable_error());
    return FinishUnary(ctx, status);
  }
  spdlog::info("node {} registered from {} ({} datasets, {} models)", req->node_id(),
               req->address(), req->datasets_size(), req->models_size());
  resp->set_accepted(true);
  resp->set_heartbeat_interval_ms(static_cast<int32_t>(registry_.heartbeat_interval().count()));
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* OrchestratorService::Heartbeat(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::HeartbeatRequest* req,
    dim::orchestrator::HeartbeatResponse* resp) {
  auto caller = access_.Node(*ctx, "Heartbeat", req->node_id());
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  auto known = registry_.Heartbeat(*req);
  if (!known.ok()) {
    spdlog::warn("heartbeat refused: {}", known.status().ToString());
    return FinishUnary(ctx, known.status());
  }
  resp->set_known(*known);
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* OrchestratorService::DeregisterNode(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::DeregisterNodeRequest* req,
    dim::orchestrator::DeregisterNodeResponse* resp) {
  auto caller = access_.Node(*ctx, "DeregisterNode", req->node_id());
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  const bool known = registry_.Deregister(req->node_id(), req->address());
  access_.Audit(*caller, "DeregisterNode", {}, core::Snippet(req->node_id()), core::Status::Ok());
  if (known) spdlog::info("node {} deregistered: it stopped", req->node_id());
  resp->set_known(known);
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* OrchestratorService::ListNodes(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::ListNodesRequest* /*req*/,
    ListNodesResponse* resp) {
  auto caller = access_.User(*ctx, "ListNodes");
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  for (const auto& d : registry_.Describe()) {
    auto* node = resp->add_nodes();
    ToProto(d, node);
    // Where the nodes are and what they run on is for admins; users see what they may
    // ask for (ids, state, datasets, models, labels).
    if (!caller->admin()) {
      node->clear_address();
      node->clear_resources();
    }
  }
  resp->set_version(DIM_VERSION);
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerReadReactor<dim::orchestrator::PushModelRequest>* OrchestratorService::PushModel(
    grpc::CallbackServerContext* ctx, dim::orchestrator::PushModelResponse* resp) {
  auto caller = access_.User(*ctx, "PushModel");
  if (!caller.ok()) return RefuseRead<dim::orchestrator::PushModelRequest>(caller.status());
  if (!caller->admin()) {
    core::Status denied = core::Status::PermissionDenied(
        "'" + caller->name + "' is a user: pushing models needs an admin");
    access_.Audit(*caller, "PushModel", {}, {}, denied);
    return RefuseRead<dim::orchestrator::PushModelRequest>(denied);
  }
  return models_.Push(
      ctx, resp, [this, who = *caller](const std::string& name, const core::Status& outcome) {
        access_.Audit(
            who, "PushModel", {}, {},
            outcome.ok() ? outcome : outcome.WithPrefix("model '" + core::Snippet(name) + "'"));
      });
}

grpc::ServerUnaryReactor* OrchestratorService::ListModels(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::ListModelsRequest* req,
    dim::orchestrator::ListModelsResponse* resp) {
  auto caller = access_.NodeOrUser(*ctx, "ListModels");
  if (!caller.ok()) return FinishUnary(ctx, caller.status());
  return models_.List(ctx, req, resp);
}

grpc::ServerWriteReactor<dim::orchestrator::ModelChunk>* OrchestratorService::FetchModel(
    grpc::CallbackServerContext* ctx, const dim::orchestrator::FetchModelRequest* req) {
  auto caller = access_.NodeOrUser(*ctx, "FetchModel");
  if (!caller.ok()) return RefuseWrite<dim::orchestrator::ModelChunk>(caller.status());
  return models_.Fetch(ctx, req);
}

}  // namespace dim::net
