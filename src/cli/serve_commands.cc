// dim orchestrator serve, dim daemon serve: the two services, in the foreground.
#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "core/clock.h"
#include "core/engine/job_service.h"
#include "core/infer/device.h"
#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/task_queue.h"
#include "core/store/job_store.h"
#include "net/daemon_service.h"
#include "net/node_announcer.h"
#include "net/node_registry.h"
#include "net/orchestrator_service.h"
#include "net/pattern_engine_service.h"
#include "net/server_runner.h"

namespace dim::cli {
namespace {

struct OrchestratorOptions {
  std::string listen = "127.0.0.1:50051";
  std::string db = "dim-orchestrator.db";
  std::vector<std::string> nodes;
  int workers = 4;
  double heartbeat_timeout = 15;
};

struct DaemonOptions {
  std::string node_id;
  std::string listen = "127.0.0.1:50052";
  std::vector<std::string> datasets;
  std::string models = "models";
  std::string device = "cpu";
  std::string orchestrator;
  std::string advertise;
  int max_concurrent_jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int max_queued = 256;
  int64_t min_samples = 10;
};

int Fail(const core::Status& status) {
  spdlog::error("{}", status.message());
  return ExitCodeFor(status);
}

int ServeOrchestrator(const GlobalOptions& global, const OrchestratorOptions& o) {
  net::BlockStopSignals();
  SetUpLogging(global.log_level, "info");
  core::SystemClock clock;

  auto store = core::JobStore::Open(o.db);
  if (!store.ok()) return Fail(store.status());

  net::NodeRegistryOptions registry_options;
  registry_options.heartbeat_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(o.heartbeat_timeout * 1000));
  net::NodeRegistry registry(clock, registry_options);
  for (const auto& spec : o.nodes) {
    auto node = core::ParseNameValue(spec, "--node");
    if (!node.ok()) return Fail(node.status());
    if (auto s = registry.AddStatic(node->first, node->second); !s.ok()) return Fail(s);
  }

  core::JobService jobs(**store, registry, clock, core::JobServiceOptions{.workers = o.workers});
  net::OrchestratorService service(jobs, registry);
  net::PatternEngineService engine(jobs);
  auto server = net::StartServer(o.listen, {&service, &engine});
  if (!server.ok()) return Fail(server.status());
  registry.Start();
  if (auto s = jobs.Start(); !s.ok()) return Fail(s);
  spdlog::info("dim orchestrator {} listening on {} (jobs in {}, {} static nodes)", DIM_VERSION,
               server->address, o.db, o.nodes.size());

  const int sig = net::WaitForStopSignal();
  spdlog::info("signal {} received; stopping", sig);
  server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  jobs.Stop();
  registry.Stop();
  spdlog::info("stopped");
  return kExitOk;
}

int ServeDaemon(const GlobalOptions& global, const DaemonOptions& o) {
  net::BlockStopSignals();
  SetUpLogging(global.log_level, "info");
  core::SystemClock clock;

  core::DatasetCatalog datasets;
  for (const auto& spec : o.datasets) {
    auto ds = core::ParseNameValue(spec, "--dataset");
    if (!ds.ok()) return Fail(ds.status());
    if (auto s = datasets.Add(ds->first, ds->second); !s.ok()) return Fail(s);
  }
  if (datasets.entries().empty()) spdlog::warn("no --dataset given: this node can run no task");
  // CLI11 admits only the names ParseDevice knows. A GPU asked for must be usable now, not
  // at the first task.
  const core::Device device = core::ParseDevice(o.device).value_or(core::Device::kCpu);
  if (device == core::Device::kCuda) {
    if (auto s = core::CheckCudaUsable(); !s.ok()) return Fail(s.WithPrefix("--device cuda"));
  }
  core::ModelRepository models(o.models, device);
  if (models.List().empty()) spdlog::warn("no models (*.onnx) in {}", o.models);

  core::TaskQueue tasks(models, datasets, clock,
                        core::TaskQueueOptions{.max_concurrent = o.max_concurrent_jobs,
                                               .max_queued = o.max_queued,
                                               .policy = {.min_samples = o.min_samples}});
  net::DaemonService service(o.node_id, models, datasets, tasks, o.max_concurrent_jobs);
  auto server = net::StartServer(o.listen, {&service});
  if (!server.ok()) return Fail(server.status());
  for (const auto& d : datasets.entries()) {
    spdlog::info("dataset '{}': {} rows, {} columns ({})", d.name, d.shape.rows,
                 d.shape.columns.size(), d.path.string());
  }
  spdlog::info("dim daemon {} node '{}' listening on {} (models in {}, run on {}, min_samples {})",
               DIM_VERSION, o.node_id, server->address, o.models, core::DeviceName(device),
               o.min_samples);

  std::unique_ptr<net::NodeAnnouncer> announcer;
  if (!o.orchestrator.empty()) {
    const std::string advertise = o.advertise.empty() ? server->address : o.advertise;
    announcer = std::make_unique<net::NodeAnnouncer>(
        o.orchestrator,
        [&, advertise](dim::orchestrator::RegisterNodeRequest* req) {
          dim::daemon::DescribeNodeResponse d;
          service.Describe(&d);
          req->set_node_id(o.node_id);
          req->set_address(advertise);
          *req->mutable_datasets() = d.datasets();
          *req->mutable_models() = d.models();
          req->set_max_concurrent_jobs(o.max_concurrent_jobs);
          req->set_version(DIM_VERSION);
        },
        [&](dim::orchestrator::HeartbeatRequest* req) {
          dim::daemon::DescribeNodeResponse d;
          service.Describe(&d);
          const auto stats = tasks.Stats();
          req->set_node_id(o.node_id);
          req->set_active_jobs(stats.active);
          req->set_queued_jobs(stats.queued);
          *req->mutable_datasets() = d.datasets();
          *req->mutable_models() = d.models();
        });
    announcer->Start();
  }

  const int sig = net::WaitForStopSignal();
  spdlog::info("signal {} received; stopping", sig);
  if (announcer) announcer->Stop();
  server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace

void AddServeCommands(CLI::App& app, GlobalOptions& options, int& exit_code) {
  auto orchestrator = std::make_shared<OrchestratorOptions>();
  auto* orch = app.add_subcommand("orchestrator", "The orchestrator service");
  orch->require_subcommand(1);
  auto* orch_serve = orch->add_subcommand(
      "serve", "Run the orchestrator in the foreground (stop with Ctrl-C or SIGTERM)");
  orch_serve->add_option("--listen", orchestrator->listen, "Address to listen on (port 0: any free port)")
      ->capture_default_str();
  orch_serve->add_option("--db", orchestrator->db, "SQLite file that keeps the jobs")
      ->capture_default_str();
  orch_serve->add_option("--node", orchestrator->nodes, "A static node: ID=HOST:PORT (repeatable)");
  orch_serve->add_option("--workers", orchestrator->workers, "Jobs run at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  orch_serve->add_option("--heartbeat-timeout", orchestrator->heartbeat_timeout,
                         "Seconds without a heartbeat before a node is inactive")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  orch_serve->callback([&, orchestrator] { exit_code = ServeOrchestrator(options, *orchestrator); });

  auto daemon = std::make_shared<DaemonOptions>();
  auto* dmn = app.add_subcommand("daemon", "The daemon service of a node");
  dmn->require_subcommand(1);
  auto* dmn_serve = dmn->add_subcommand(
      "serve", "Run a node's daemon in the foreground (stop with Ctrl-C or SIGTERM)");
  dmn_serve->add_option("--node-id", daemon->node_id, "This node's id")->required();
  dmn_serve->add_option("--listen", daemon->listen, "Address to listen on (port 0: any free port)")
      ->capture_default_str();
  dmn_serve->add_option("--dataset", daemon->datasets,
                        "A dataset this node owns: NAME=PATH to a CSV file (repeatable)");
  dmn_serve->add_option("--models", daemon->models, "Model folder: NAME.onnx serves model NAME")
      ->capture_default_str();
  dmn_serve->add_option("--device", daemon->device, "Where models run: cpu, or cuda (a GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  dmn_serve->add_option("--orchestrator", daemon->orchestrator,
                        "Orchestrator to register with and heartbeat to (HOST:PORT)");
  dmn_serve->add_option("--advertise", daemon->advertise,
                        "Address the orchestrator should dial (default: the listen address)");
  dmn_serve->add_option("--max-concurrent-jobs", daemon->max_concurrent_jobs, "Tasks run at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  dmn_serve->add_option("--max-queued", daemon->max_queued, "Tasks waiting before new ones are refused")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  dmn_serve->add_option("--min-samples", daemon->min_samples,
                        "Refuse collaborative (summary) tasks on datasets with fewer rows "
                        "(0 or 1: allow all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  dmn_serve->callback([&, daemon] { exit_code = ServeDaemon(options, *daemon); });
}

}  // namespace dim::cli
