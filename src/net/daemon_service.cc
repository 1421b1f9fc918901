#include "net/daemon_service.h"

#include <spdlog/spdlog.h>
#include <sys/sysinfo.h>

#include <thread>

#include "core/infer/device.h"
#include "net/grpc_status.h"
#include "net/node_convert.h"

namespace dim::net {
void FillResources(dim::daemon::ResourceStatus* out) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  out->set_cpu_available(static_cast<int32_t>(cores));
  struct sysinfo info {};
  if (sysinfo(&info) == 0) {
    const double unit = info.mem_unit;
    const double total = static_cast<double>(info.totalram) * unit;
    const double avail = static_cast<double>(info.freeram + info.bufferram) * unit;
    out->set_memory_available_gb(static_cast<int32_t>(avail / (1024.0 * 1024 * 1024)));
    out->set_memory_percent(total > 0 ? static_cast<float>(100.0 * (1 - avail / total)) : 0);
    // Load average over one minute, as a share of the cores.
    const double load = static_cast<double>(info.loads[0]) / (1 << SI_LOAD_SHIFT);
    out->set_cpu_percent(static_cast<float>(std::min(100.0, 100.0 * load / cores)));
  }
  out->set_gpu_available(core::GpuAvailable());
}

DaemonService::DaemonService(std::string node_id, core::ModelRepository& models,
                             const core::DatasetCatalog& datasets, core::TaskQueue& tasks,
                             int max_concurrent_jobs)
    : node_id_(std::move(node_id)),
      models_(models),
      datasets_(datasets),
      tasks_(tasks),
      max_concurrent_jobs_(max_concurrent_jobs) {}

grpc::ServerUnaryReactor* DaemonService::SubmitJob(grpc::CallbackServerContext* ctx,
                                                   const dim::daemon::SubmitJobRequest* req,
                                                   dim::daemon::SubmitJobResponse* resp) {
  resp->set_job_id(req->job_id());
  auto task = core::NodeTaskFromRequest(req->job_id(), req->model_id(), req->data_source(),
                                        req->input_data_json());
  core::Status status = task.status();
  if (task.ok()) {
    status = tasks_.Submit(std::move(*task), static_cast<core::Priority>(req->priority()));
  }
  if (!status.ok()) {
    spdlog::info("task {} refused: {}", req->job_id(), status.ToString());
    resp->set_status("rejected");
    FillError(status, resp->mutable_error());
    return FinishUnary(ctx, status);
  }
  spdlog::info("task {} queued (model {}, dataset {})", req->job_id(), req->model_id(),
               req->data_source());
  resp->set_status("queued");
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* DaemonService::GetJobStatus(grpc::CallbackServerContext* ctx,
                                                      const dim::daemon::GetJobStatusRequest* req,
                                                      dim::daemon::JobStatusResponse* resp) {
  auto view = tasks_.Get(req->job_id());
  if (!view.ok()) return FinishUnary(ctx, view.status());
  resp->set_job_id(view->job_id);
  resp->set_status(view->status);
  resp->set_result_json(view->result_json);
  resp->set_error(view->error);
  if (view->error_code != core::StatusCode::kOk) {
    resp->set_error_code(std::string(core::StatusCodeName(view->error_code)));
  }
  resp->set_started_at(view->started_at);
  resp->set_completed_at(view->completed_at);
  if (!view->completed_at.empty()) {
    resp->set_execution_time(core::FormatDuration(view->execution_seconds));
  }
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* DaemonService::CancelJob(grpc::CallbackServerContext* ctx,
                                                   const dim::daemon::CancelJobRequest* req,
                                                   dim::daemon::CancelJobResponse* resp) {
  core::Status status = tasks_.Cancel(req->job_id());
  resp->set_success(status.ok());
  resp->set_message(status.ok() ? "task " + req->job_id() + " cancelled" : status.message());
  if (!status.ok()) FillError(status, resp->mutable_error());
  return FinishUnary(ctx, status);
}

grpc::ServerUnaryReactor* DaemonService::GetHealth(grpc::CallbackServerContext* ctx,
                                                   const dim::daemon::GetHealthRequest* /*req*/,
                                                   dim::daemon::HealthResponse* resp) {
  const auto stats = tasks_.Stats();
  resp->set_status("healthy");
  resp->set_node_id(node_id_);
  FillResources(resp->mutable_resources());
  for (const auto& m : models_.List()) resp->add_cached_models(m);
  resp->set_active_jobs(stats.active);
  resp->set_queued_jobs(stats.queued);
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* DaemonService::GetStats(grpc::CallbackServerContext* ctx,
                                                  const dim::daemon::GetStatsRequest* /*req*/,
                                                  dim::daemon::StatsResponse* resp) {
  const auto stats = tasks_.Stats();
  resp->set_node_id(node_id_);
  resp->set_total_jobs(stats.total);
  resp->set_successful_jobs(stats.successful);
  resp->set_failed_jobs(stats.failed);
  resp->set_avg_execution_time(static_cast<float>(stats.avg_execution_seconds));
  const auto models = models_.List();
  resp->set_cached_models_count(static_cast<int32_t>(models.size()));
  int64_t bytes = 0;
  for (const auto& m : models) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(models_.dir() / (m + ".onnx"), ec);
    if (!ec) bytes += static_cast<int64_t>(size);
  }
  resp->set_cache_size_bytes(bytes);
  FillResources(resp->mutable_resources());
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* DaemonService::DescribeNode(
    grpc::CallbackServerContext* ctx, const dim::daemon::DescribeNodeRequest* /*req*/,
    dim::daemon::DescribeNodeResponse* resp) {
  Describe(resp);
  return FinishUnary(ctx, core::Status::Ok());
}

void DaemonService::Describe(dim::daemon::DescribeNodeResponse* out) const {
  out->set_node_id(node_id_);
  ToProto(datasets_.entries(), out->mutable_datasets());
  for (const auto& m : models_.List()) out->add_models(m);
  out->set_max_concurrent_jobs(max_concurrent_jobs_);
  out->set_version(DIM_VERSION);
}

}  // namespace dim::net
