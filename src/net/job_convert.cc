#include "net/job_convert.h"

#include <algorithm>
#include <cstdio>

#include "core/clock.h"
#include "net/grpc_status.h"
#include "net/tensor_codec.h"

namespace dim::net {

void SetResult(const core::JobRecord& job, bool rows_as_tensor, std::string* result_json,
               dim::common::Tensor* output_rows) {
  if (!rows_as_tensor) {
    *result_json = core::JobResultJson(job);
    return;
  }
  *result_json = job.result_json;
  if (job.output_rows) ToTensor(*job.output_rows, output_rows);
}

void ToProto(const core::JobRecord& job, dim::orchestrator::JobStatusResponse* out,
             bool with_events, bool rows_as_tensor) {
  out->set_job_id(job.id);
  out->set_status(static_cast<dim::common::JobState>(job.state));
  out->set_pattern(static_cast<dim::common::Pattern>(job.pattern));
  auto* progress = out->mutable_progress();
  progress->set_completed_steps(job.completed_steps);
  progress->set_total_steps(job.total_steps);
  progress->set_percent_complete(
      job.total_steps > 0 ? job.completed_steps * 100 / job.total_steps
                          : (job.state == core::JobState::kCompleted ? 100 : 0));
  SetResult(job, rows_as_tensor, out->mutable_result_json(),
            rows_as_tensor && job.output_rows ? out->mutable_output_rows() : nullptr);
  if (job.output_stream) {
    out->add_streamed_output_shape(job.output_stream->rows);
    out->add_streamed_output_shape(job.output_stream->width);
  }
  out->set_error(job.error);
  for (const auto& n : job.nodes) {
    auto* node = out->add_nodes();
    node->set_node_id(n.node_id);
    node->set_status(std::string(core::TaskStateName(n.state)));
    node->set_error(core::ErrorText(n.error));
    node->set_started_at(n.started_at);
    node->set_completed_at(n.completed_at);
    if (!n.completed_at.empty()) node->set_execution_time(core::FormatDuration(n.execution_seconds));
    node->set_rows_done(n.rows_done);
    node->set_rows_total(n.rows_total);
  }
  out->set_created_at(job.created_at);
  out->set_started_at(job.started_at);
  out->set_completed_at(job.completed_at);
  out->set_user_id(job.user_id);
  out->set_priority(static_cast<dim::common::Priority>(job.priority));
  out->set_config_json(job.config_json);
  if (with_events) {
    for (const auto& e : job.events) {
      auto* event = out->add_events();
      event->set_time(e.time);
      event->set_event(std::string(core::JobEventName(e.kind)));
      event->set_node_id(e.node_id);
      event->set_detail(e.detail);
    }
  }
}

void ToProto(const std::vector<core::JobService::NodeDryRun>& report,
             dim::orchestrator::SubmitJobResponse* out) {
  for (const auto& n : report) {
    auto* v = out->add_dry_run();
    v->set_node_id(n.node_id);
    v->set_step(n.step);
    v->set_asked(n.verdict.ok());
    if (!n.verdict.ok()) {
      FillError(n.verdict.status(), v->mutable_error());
      continue;
    }
    v->set_accepted(n.verdict->refusal.ok());
    v->set_epsilon(n.verdict->epsilon);
    v->set_has_budget(n.verdict->has_budget);
    v->set_budget_left(n.verdict->budget_left);
    if (!n.verdict->refusal.ok()) FillError(n.verdict->refusal, v->mutable_error());
  }
}

std::vector<core::JobService::NodeDryRun> DryRunFromProto(
    const dim::orchestrator::SubmitJobResponse& resp) {
  std::vector<core::JobService::NodeDryRun> out;
  for (const auto& v : resp.dry_run()) {
    core::JobService::NodeDryRun n;
    n.node_id = v.node_id();
    n.step = v.step();
    core::Status error(core::ParseStatusCode(v.error().code()), v.error().message());
    if (error.ok() && !v.accepted())
      error = core::Status(core::StatusCode::kUnknown, v.error().message());
    if (v.asked()) {
      core::DryRunVerdict d;
      d.refusal = v.accepted() ? core::Status::Ok() : error;
      d.epsilon = v.epsilon();
      d.has_budget = v.has_budget();
      d.budget_left = v.budget_left();
      n.verdict = d;
    } else {
      n.verdict = error;
    }
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace dim::net

namespace dim::net {
namespace {

// Reads back what core::FormatDuration wrote ("850ms", "2.41s", "3m12s"); 0 otherwise.
double ParseDuration(const std::string& text) {
  double minutes = 0, value = 0;
  if (std::sscanf(text.c_str(), "%lfm%lfs", &minutes, &value) == 2) return minutes * 60 + value;
  if (text.ends_with("ms") && std::sscanf(text.c_str(), "%lf", &value) == 1) return value / 1000;
  if (text.ends_with("s") && std::sscanf(text.c_str(), "%lf", &value) == 1) return value;
  return 0;
}

}  // namespace

core::Result<core::JobRecord> FromProto(const dim::orchestrator::JobStatusResponse& in) {
  core::JobRecord job;
  job.id = in.job_id();
  job.state = static_cast<core::JobState>(in.status());
  job.pattern = static_cast<core::Pattern>(in.pattern());
  job.completed_steps = in.progress().completed_steps();
  job.total_steps = in.progress().total_steps();
  job.result_json = in.result_json();
  job.error = in.error();
  if (in.streamed_output_shape_size() == 2 && in.streamed_output_shape(0) >= 0 &&
      in.streamed_output_shape(1) >= 1) {
    job.output_stream = core::RowStream{.rows = in.streamed_output_shape(0),
                                        .width = in.streamed_output_shape(1),
                                        .chunks = 0,
                                        .columns = {}};
  }
  for (const auto& n : in.nodes()) {
    core::NodeTaskRecord r;
    r.node_id = n.node_id();
    r.state = core::ParseTaskState(n.status()).value_or(core::TaskState::kPending);
    r.error = core::ParseStatusText(n.error());
    r.started_at = n.started_at();
    r.completed_at = n.completed_at();
    r.execution_seconds = ParseDuration(n.execution_time());
    r.rows_total = std::max<int64_t>(0, n.rows_total());
    r.rows_done = std::clamp<int64_t>(n.rows_done(), 0, r.rows_total);
    job.nodes.push_back(std::move(r));
  }
  job.created_at = in.created_at();
  job.started_at = in.started_at();
  job.completed_at = in.completed_at();
  job.user_id = in.user_id();
  job.priority = static_cast<core::Priority>(in.priority());
  job.config_json = in.config_json();
  if (in.has_output_rows()) {
    DIM_ASSIGN_OR_RETURN(
        core::ClientData rows,
        ClientDataFromTensor(in.output_rows(), "output_rows", core::kMaxClientValues));
    job.output_rows = std::make_shared<const core::ClientData>(std::move(rows));
  }
  for (const auto& e : in.events()) {
    // An event a newer orchestrator knows and this client does not is left out.
    if (auto kind = core::ParseJobEventKind(e.event())) {
      job.events.push_back(core::JobEvent{e.time(), *kind, e.node_id(), e.detail()});
    }
  }
  return job;
}

}  // namespace dim::net
