#include "net/daemon_service.h"

#include <spdlog/spdlog.h>
#include <sys/sysinfo.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "core/infer/device.h"
#include "core/input_limits.h"
#include "core/text.h"
#include "net/grpc_status.h"
#include "net/node_convert.h"
#include "net/task_codec.h"

namespace dim::net {
namespace {

// The longest a GetJobStatus may wait for its task's end (wait_ms beyond it is cut).
constexpr std::chrono::milliseconds kMaxStatusWait{60'000};

// GetJobStatus with wait_ms: answers when the task ends or the wait passes, with no gRPC
// thread held meanwhile. The queue calls the waiter exactly once (the end, the deadline, or
// CancelWait from OnDone); the reactor finishes once, on the first of that call and OnCancel,
// and deletes itself when both gRPC (OnDone) and the waiter's call are done with it.
class StatusWaitReactor final : public grpc::ServerUnaryReactor {
 public:
  StatusWaitReactor(core::TaskQueue& tasks, dim::daemon::JobStatusResponse* resp)
      : tasks_(tasks), resp_(resp) {}

  void Start(const std::string& job_id, std::chrono::steady_clock::time_point deadline) {
    auto handle =
        tasks_.WaitForEnd(job_id, deadline, [this](const core::TaskView& v) { OnTaskView(v); });
    if (!handle.ok()) {  // forgotten since the handler looked: the waiter will not be called
      {
        std::lock_guard lock(mu_);
        FinishOnceLocked(ToGrpc(handle.status()));
      }
      Unref();
      return;
    }
    std::lock_guard lock(mu_);
    handle_ = *handle;
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    FinishOnceLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    int64_t handle;
    {
      std::lock_guard lock(mu_);
      handle = handle_;
    }
    tasks_.CancelWait(handle);  // the waiter is called now if it has not been
    Unref();
  }

 private:
  void OnTaskView(const core::TaskView& view) {
    {
      std::lock_guard lock(mu_);
      if (!finished_) {
        ToStatus(view, resp_);
        FinishOnceLocked(grpc::Status::OK);
      }
    }
    Unref();
  }

  void FinishOnceLocked(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  void Unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  core::TaskQueue& tasks_;
  dim::daemon::JobStatusResponse* resp_;
  std::mutex mu_;
  bool finished_ = false;
  int64_t handle_ = 0;
  std::atomic<int> refs_{2};  // gRPC's OnDone, and the queue's one call of the waiter
};

// Answers `ctx` with the task's view in `resp` when the task ends or after wait_ms (cut to
// kMaxStatusWait, and to a little before the caller's deadline, so that it gets the view
// rather than DEADLINE_EXCEEDED).
grpc::ServerUnaryReactor* StartStatusWait(grpc::CallbackServerContext* ctx,
                                          core::TaskQueue& tasks, const std::string& job_id,
                                          int32_t wait_ms, dim::daemon::JobStatusResponse* resp) {
  const auto now = std::chrono::system_clock::now();
  auto wait = std::min<std::chrono::milliseconds>(std::chrono::milliseconds(wait_ms),
                                                  kMaxStatusWait);
  if (ctx->deadline() != std::chrono::system_clock::time_point::max()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(ctx->deadline() - now);
    wait = std::max(std::chrono::milliseconds(0), std::min(wait, left * 9 / 10));
  }
  auto* reactor = new StatusWaitReactor(tasks, resp);
  reactor->Start(job_id, std::chrono::steady_clock::now() + wait);
  return reactor;
}

}  // namespace

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
  if (core::Status denied = Refused(*ctx, "SubmitJob"); !denied.ok()) {
    resp->set_status("rejected");
    FillError(denied, resp->mutable_error());
    return FinishUnary(ctx, denied);
  }
  auto task = TaskFromRequest(*req);
  core::Status status = task.status();
  if (task.ok()) task->user_id = core::Snippet(req->user_id(), core::kMaxNameBytes);
  if (req->dry_run()) {
    auto* v = resp->mutable_dry_run();
    v->set_node_id(node_id_);
    v->set_asked(true);
    if (task.ok()) {
      const core::DryRunVerdict verdict = tasks_.DryRun(*task);
      v->set_epsilon(verdict.epsilon);
      v->set_has_budget(verdict.has_budget);
      v->set_budget_left(verdict.budget_left);
      status = verdict.refusal;
    }
    v->set_accepted(status.ok());
    if (!status.ok()) FillError(status, v->mutable_error());
    spdlog::info("dry run of task {}: {}", req->job_id(),
                 status.ok() ? std::string("would accept") : status.ToString());
    resp->set_status("dry_run");
    return FinishUnary(ctx, core::Status::Ok());
  }
  if (task.ok()) {
    status = tasks_.Submit(std::move(*task), static_cast<core::Priority>(req->priority()));
  }
  if (!status.ok()) {
    spdlog::info("task {} refused: {}", req->job_id(), status.ToString());
    resp->set_status("rejected");
    FillError(status, resp->mutable_error());
    return FinishUnary(ctx, status);
  }
  spdlog::info("task {} queued (model {}, dataset {}{})", req->job_id(), req->model_id(),
               req->data_source(), req->user_id().empty() ? "" : ", user " + req->user_id());
  resp->set_status("queued");
  if (req->wait_ms() <= 0) return FinishUnary(ctx, core::Status::Ok());
  return StartStatusWait(ctx, tasks_, req->job_id(), req->wait_ms(), resp->mutable_task());
}

grpc::ServerUnaryReactor* DaemonService::GetJobStatus(grpc::CallbackServerContext* ctx,
                                                      const dim::daemon::GetJobStatusRequest* req,
                                                      dim::daemon::JobStatusResponse* resp) {
  if (core::Status denied = Refused(*ctx, "GetJobStatus"); !denied.ok()) {
    return FinishUnary(ctx, denied);
  }
  auto view = tasks_.Get(req->job_id());
  if (!view.ok()) return FinishUnary(ctx, view.status());
  if (req->wait_ms() <= 0 || core::IsEnded(view->state)) {
    ToStatus(*view, resp);
    return FinishUnary(ctx, core::Status::Ok());
  }
  return StartStatusWait(ctx, tasks_, req->job_id(), req->wait_ms(), resp);
}

grpc::ServerUnaryReactor* DaemonService::CancelJob(grpc::CallbackServerContext* ctx,
                                                   const dim::daemon::CancelJobRequest* req,
                                                   dim::daemon::CancelJobResponse* resp) {
  if (core::Status denied = Refused(*ctx, "CancelJob"); !denied.ok()) {
    resp->set_success(false);
    resp->set_message(denied.message());
    FillError(denied, resp->mutable_error());
    return FinishUnary(ctx, denied);
  }
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
  if (core::Status denied = Refused(*ctx, "GetStats"); !denied.ok()) {
    return FinishUnary(ctx, denied);
  }
  const auto stats = tasks_.Stats();
  resp->set_node_id(node_id_);
  resp->set_total_jobs(stats.total);
  resp->set_successful_jobs(stats.successful);
  resp->set_failed_jobs(stats.failed);
  resp->set_avg_execution_time(static_cast<float>(stats.avg_execution_seconds));
  const core::ModelCacheStats cache = models_.Stats();
  resp->set_cached_models_count(static_cast<int32_t>(cache.models));
  resp->set_cache_size_bytes(cache.total_bytes);
  resp->set_cache_fetched_models(static_cast<int32_t>(cache.fetched_models));
  resp->set_cache_fetched_bytes(cache.fetched_bytes);
  resp->set_cache_max_bytes(cache.max_bytes);
  resp->set_cache_hits(cache.hits);
  resp->set_cache_misses(cache.misses);
  resp->set_cache_evictions(cache.evictions);
  resp->set_cache_fetch_failures(cache.fetch_failures);
  FillResources(resp->mutable_resources());
  return FinishUnary(ctx, core::Status::Ok());
}

grpc::ServerUnaryReactor* DaemonService::DescribeNode(
    grpc::CallbackServerContext* ctx, const dim::daemon::DescribeNodeRequest* /*req*/,
    dim::daemon::DescribeNodeResponse* resp) {
  if (core::Status denied = Refused(*ctx, "DescribeNode"); !denied.ok()) {
    return FinishUnary(ctx, denied);
  }
  Describe(resp);
  return FinishUnary(ctx, core::Status::Ok());
}

core::Status DaemonService::Refused(const grpc::ServerContextBase& ctx,
                                    std::string_view method) const {
  core::Status status = callers_.Check(ctx);
  if (!status.ok()) spdlog::warn("{} from {} refused: {}", method, ctx.peer(), status.message());
  return status;
}

void DaemonService::Describe(dim::daemon::DescribeNodeResponse* out) const {
  out->set_node_id(node_id_);
  if (custody_ == nullptr) {
    ToProto(datasets_.entries(), out->mutable_datasets());
  } else {
    std::vector<core::DatasetEntry> entries = datasets_.entries();
    for (auto& e : entries) e.policy = custody_->Summary(e.name);
    ToProto(entries, out->mutable_datasets());
  }
  for (const auto& m : models_.List()) out->add_models(m);
  out->set_max_concurrent_jobs(max_concurrent_jobs_);
  out->set_version(DIM_VERSION);
  FillResources(out->mutable_resources());
  for (const auto& [key, value] : labels_) (*out->mutable_labels())[key] = value;
  const auto stats = tasks_.Stats();
  out->set_active_jobs(stats.active);
  out->set_queued_jobs(stats.queued);
  out->set_fetches_models(models_.can_fetch());
}

}  // namespace dim::net
