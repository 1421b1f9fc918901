// JobBackend in-process (--local): the same engine, in-process nodes, a local SQLite file.
#include <algorithm>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>

#include "cli/job_backend.h"
#include "core/node/in_process_node.h"

namespace dim::cli {
namespace {

class LocalBackend final : public JobBackend {
 public:
  LocalBackend(std::unique_ptr<core::JobStore> store,
               std::unique_ptr<core::InProcessDirectory> nodes)
      : store_(std::move(store)),
        nodes_(std::move(nodes)),
        // Other processes read the same file (`dim --local status` from another shell).
        service_(*store_, *nodes_, clock_,
                 core::JobServiceOptions{.workers = 1, .recover = false, .store_progress = true}) {}

  core::Status Start() { return service_.Start(); }

  core::Result<core::JobRecord> Submit(const core::SubmitRequest& request) override {
    return service_.Submit(request);
  }
  core::Result<core::JobRecord> SubmitStreamed(const core::SubmitRequest& request,
                                               const core::RowSource& next, int64_t) override {
    return service_.SubmitStreamed(request, next);
  }
  core::Status ReadOutputRows(const core::JobRecord& job, const core::RowSink& sink) override {
    return service_.ReadOutputRows(job, sink);
  }
  core::Result<core::JobRecord> Get(const std::string& id) override { return service_.Get(id); }
  core::Result<core::JobPage> List(const core::JobQuery& query) override {
    return service_.List(query);
  }
  core::Result<std::vector<core::JobService::NodeDryRun>> DryRun(
      const core::SubmitRequest& request) override {
    return service_.DryRun(request);
  }
  core::Result<core::JobRecord> Cancel(const std::string& id) override {
    return service_.Cancel(id);
  }
  // Follows the job through the service's Watch: a job this process runs is seen at each
  // change, at once. A job another process runs (dim --local status --watch from another
  // shell) changes only in the shared file, which is read again every kRefresh.
  core::Result<core::JobRecord> Wait(const std::string& id, std::chrono::milliseconds timeout,
                                     const ProgressFn& progress) override {
    constexpr auto kRefresh = std::chrono::milliseconds(500);
    struct Seen {
      std::mutex mu;
      std::condition_variable cv;
      std::optional<core::JobRecord> latest;  // not yet given to `progress`
    };
    auto seen = std::make_shared<Seen>();
    DIM_ASSIGN_OR_RETURN(const int64_t handle,
                         service_.Watch(id, [seen](const core::JobRecord& record) {
                           std::lock_guard lock(seen->mu);
                           seen->latest = record;
                           seen->cv.notify_one();
                         }));
    struct Unwatch {
      core::JobService& service;
      int64_t handle;
      ~Unwatch() { service.Unwatch(handle); }
    } unwatch{service_, handle};
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last_state = "PENDING";
    for (;;) {
      std::optional<core::JobRecord> record;
      {
        std::unique_lock lock(seen->mu);
        seen->cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + kRefresh),
                            [&] { return seen->latest.has_value(); });
        record.swap(seen->latest);
      }
      if (!record) {
        if (std::chrono::steady_clock::now() >= deadline) {
          return core::Status::DeadlineExceeded("job '" + id + "' is still " + last_state);
        }
        auto current = service_.Get(id);  // another process's job: the file says
        if (!current.ok()) return current.status();
        record = *std::move(current);
      }
      last_state = std::string(core::JobStateName(record->state));
      if (progress) progress(*record);
      if (core::IsTerminal(record->state)) return *std::move(record);
    }
  }
  core::Result<HealthReport> Health() override {
    HealthReport report;
    report.server = "local";
    report.status = "SERVING";
    report.version = DIM_VERSION;
    report.nodes = nodes_->Describe();
    return report;
  }

 private:
  core::SystemClock clock_;
  std::unique_ptr<core::JobStore> store_;
  std::unique_ptr<core::InProcessDirectory> nodes_;
  core::JobService service_;
};

// "ID[:DATASET]=PATH"
core::Status AddLocalNode(const std::string& spec,
                          std::map<std::string, core::DatasetCatalog>& catalogs) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) {
    return core::Status::InvalidArgument("--local-node '" + spec +
                                         "': expected ID=PATH or ID:DATASET=PATH");
  }
  std::string id = spec.substr(0, eq);
  std::string dataset = "default";
  if (const auto colon = id.find(':'); colon != std::string::npos) {
    dataset = id.substr(colon + 1);
    id = id.substr(0, colon);
  }
  if (id.empty() || dataset.empty()) {
    return core::Status::InvalidArgument("--local-node '" + spec + "': empty node or dataset name");
  }
  return catalogs[id].Add(dataset, spec.substr(eq + 1)).WithPrefix("--local-node " + id);
}

}  // namespace

std::string DefaultLocalDb() {
  if (const char* env = std::getenv("DIM_LOCAL_DB"); env && *env) return env;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg && *xdg) {
    return std::string(xdg) + "/dim/local.db";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.local/share/dim/local.db";
  }
  return "dim-local.db";
}

core::Result<std::unique_ptr<JobBackend>> MakeLocalBackend(const GlobalOptions& options) {
  auto directory = std::make_unique<core::InProcessDirectory>();
  std::map<std::string, core::DatasetCatalog> catalogs;
  for (const auto& spec : options.local_nodes) {
    DIM_RETURN_IF_ERROR(AddLocalNode(spec, catalogs));
  }
  const std::string db = options.local_db.empty() ? DefaultLocalDb() : options.local_db;
  std::map<std::string, std::shared_ptr<core::NodeCustody>> custody;
  for (const auto& spec : options.local_policies) {
    DIM_ASSIGN_OR_RETURN(auto pair, core::ParseNameValue(spec, "--local-policy"));
    if (!catalogs.count(pair.first)) {
      return core::Status::InvalidArgument("--local-policy " + spec + ": no --local-node '" +
                                           pair.first + "'");
    }
    DIM_ASSIGN_OR_RETURN(core::SitePolicy policy, core::SitePolicy::Read(pair.second));
    // Each local node keeps its ledger beside the job file, so its budget lasts from one
    // `dim --local` to the next.
    DIM_ASSIGN_OR_RETURN(auto ledger, core::Ledger::Open(db + ".ledger-" + pair.first + ".db"));
    static const core::SystemClock kClock;
    auto c = std::make_shared<core::NodeCustody>(pair.first, 10, std::move(ledger), kClock);
    c->SetPolicy(std::move(policy));
    if (!custody.emplace(pair.first, std::move(c)).second) {
      return core::Status::InvalidArgument("--local-policy: node '" + pair.first + "' given twice");
    }
  }
  auto models = std::make_shared<core::ModelRepository>(options.models_dir);
  for (auto& [id, catalog] : catalogs) {
    auto c = custody.count(id) ? custody[id] : nullptr;
    DIM_RETURN_IF_ERROR(directory->Add(
        id, std::make_shared<core::InProcessNode>(id, models, std::move(catalog),
                                                  core::InProcessNode::DefaultOptions(), c)));
  }
  DIM_ASSIGN_OR_RETURN(auto store, core::JobStore::Open(db));
  auto backend = std::make_unique<LocalBackend>(std::move(store), std::move(directory));
  DIM_RETURN_IF_ERROR(backend->Start());
  return std::unique_ptr<JobBackend>(std::move(backend));
}

}  // namespace dim::cli
