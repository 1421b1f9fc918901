// dim orchestrator serve, dim daemon serve: the two services, in the foreground.
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <limits>
#include <memory>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/service_config.h"
#include "cli/validators.h"
#include "core/clock.h"
#include "core/custody/custody.h"
#include "core/engine/job_service.h"
#include "core/host_port.h"
#include "core/infer/device.h"
#include "core/job/config_reader.h"
#include "core/models/model_store.h"
#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/task_queue.h"
#include "core/regular_file.h"
#include "core/security/certificate.h"
#include "core/store/job_store.h"
#include "net/daemon_service.h"
#include "net/log.h"
#include "net/metrics.h"
#include "net/model_store_client.h"
#include "net/node_announcer.h"
#include "net/node_registry.h"
#include "net/orchestrator_access.h"
#include "net/orchestrator_service.h"
#include "net/pattern_engine_service.h"
#include "net/security.h"
#include "net/server_runner.h"

namespace dim::cli {
namespace {

// TLS of a service: its own certificate (served, and presented when it dials the other
// service), the CA its clients' certificates must come from, and the CA that verifies the
// services it dials. Each CA defaults to the other: one CA for a whole deployment is the
// common case, and then every connection is mutual TLS.
struct TlsOptions {
  std::string cert;
  std::string key;
  std::string client_ca;
  std::string ca;
  bool insecure = false;
  std::string node_token;  // file

  // (Client certificates are checked only by a service that serves TLS.)
  const std::string& ClientCa() const {
    return client_ca.empty() && !cert.empty() ? ca : client_ca;
  }
  const std::string& DialCa() const { return ca.empty() ? client_ca : ca; }
};

struct OrchestratorOptions {
  TlsOptions tls;
  std::string auth_tokens;
  std::string rate_limit;  // "N/s", "N/m" or N (a second); "" : none
  double rate_burst = 0;
  std::string audit_log;
  int64_t max_message_bytes = 16 << 20;
  int64_t max_config_bytes = static_cast<int64_t>(core::kMaxConfigBytes);
  int max_nodes_per_job = static_cast<int>(core::kMaxNodesPerJob);
  std::string listen = "127.0.0.1:50051";
  std::string metrics_listen;  // "" : no metrics endpoint
  std::string db = "dim-orchestrator.db";
  std::vector<std::string> nodes;
  std::string nodes_file;
  // Each running job holds a thread, and one per node task, mostly waiting on the nodes:
  // 16 keeps two cores busy with trivial jobs (job_bench: 4 left a queue and idle CPU).
  int workers = 16;
  int max_queued = 10000;
  double heartbeat_timeout = 15;
  std::string model_store;  // empty: beside the --db (ModelStoreDir)
  int64_t max_model_bytes = int64_t{1} << 30;
};

struct DaemonOptions {
  TlsOptions tls;
  std::string policy;  // --policy FILE ("" : none)
  std::string ledger;  // --ledger PATH ("" : the --models path + ".ledger.db")
  std::string node_id;
  std::string listen = "127.0.0.1:50052";
  std::string metrics_listen;  // "" : no metrics endpoint
  std::vector<std::string> datasets;
  std::string models = "models";
  std::string device = "cpu";
  std::string orchestrator;
  std::string advertise;
  int max_concurrent_jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int max_queued = 256;
  int64_t min_samples = 10;
  std::vector<std::string> labels;
  int64_t cache_max_bytes = 0;  // fetched models kept within this many bytes; 0: no limit
  double abandon_after = 30;    // seconds; see TaskQueueOptions::abandon_after
};

// Stops a service's metrics endpoint when it goes out of scope: declared after what the
// metrics read, so that no scrape reads it as it goes.
struct MetricsStop {
  net::Metrics& metrics;
  ~MetricsStop() { metrics.Stop(); }
};

// The metrics name nodes, datasets and models, and have no TLS nor tokens of their own.
void WarnIfMetricsAreOpen(const std::string& metrics_listen) {
  if (auto parsed = core::ParseHostPort(metrics_listen, 0);
      parsed.ok() && !net::IsLoopbackHost(parsed->host)) {
    spdlog::warn(
        "anyone who reaches {} can read this service's metrics (node, dataset and model names, "
        "job counts): let only the Prometheus server reach that port",
        metrics_listen);
  }
}

// The longest a service takes to stop once signalled, before it ends at once.
constexpr std::chrono::seconds kStopLimit{10};

int Fail(const core::Status& status) {
  spdlog::error("{}", status.message());
  return ExitCodeFor(status);
}

// The lines of a nodes file (ID=HOST:PORT; blank lines and # comments skipped), each with
// "FILE:LINE" for error messages.
core::Result<std::vector<std::pair<std::string, std::string>>> ReadNodesFile(
    const std::string& path) {
  // A node a line: a few hundred bytes each.
  constexpr size_t kMaxNodesFileBytes = size_t{16} << 20;
  auto text = core::ReadRegularFile(path, kMaxNodesFileBytes, "--nodes-file " + path);
  if (!text.ok()) return core::Status::InvalidArgument(text.status().message());
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(*text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    std::string where = path;
    where += ':';
    where += std::to_string(number);
    out.emplace_back(line.substr(first, last - first + 1), std::move(where));
  }
  return out;
}

// A service's security, from its flags.
struct ServiceSecurity {
  net::ServerSecurity server;
  net::ClientSecurity dial;  // towards the other service
  std::string node_token;    // "" : none
};

core::Result<ServiceSecurity> LoadServiceSecurity(const TlsOptions& t, const std::string& listen) {
  ServiceSecurity out;
  DIM_ASSIGN_OR_RETURN(out.server, net::LoadServerSecurity(t.cert, t.key, t.ClientCa()));
  DIM_RETURN_IF_ERROR(net::CheckListenSecurity(listen, out.server.tls, t.insecure));
  if (!t.node_token.empty()) {
    DIM_ASSIGN_OR_RETURN(out.node_token, net::ReadNodeToken(t.node_token));
  }
  const bool dial_tls = !t.DialCa().empty();
  DIM_ASSIGN_OR_RETURN(out.dial, net::ClientSecurity::Load(t.DialCa(), dial_tls ? t.cert : "",
                                                           dial_tls ? t.key : "", out.node_token));
  return out;
}

// How the service's connections are secured, for its start-up line.
std::string Describe(const ServiceSecurity& s) {
  std::string out = !s.server.tls                  ? "plaintext"
                    : s.server.client_certificates ? "mutual TLS"
                                                   : "TLS";
  if (!s.node_token.empty()) out += ", node token";
  return out;
}

// --rate-limit: "N/s", "N/m" or N (a second), as calls a second.
core::Result<double> ParseRate(const std::string& text) {
  if (text.empty()) return 0.0;
  double per = 1;
  std::string number = text;
  if (text.ends_with("/s")) {
    number = text.substr(0, text.size() - 2);
  } else if (text.ends_with("/m")) {
    number = text.substr(0, text.size() - 2);
    per = 60;
  }
  char* end = nullptr;
  const double n = std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(n) || n < 0) {
    return core::Status::InvalidArgument(
        "--rate-limit '" + text + "': expected calls a second or a minute, e.g. 20/s or 300/m");
  }
  return n / per;
}

// --model-store, or "<db>.models" (dim-models for an in-memory --db).
std::string ModelStoreDir(const OrchestratorOptions& o) {
  if (!o.model_store.empty()) return o.model_store;
  return o.db == ":memory:" ? "dim-models" : o.db + ".models";
}

int ServeOrchestrator(const GlobalOptions& global, const OrchestratorOptions& o) {
  net::BlockStopSignals();
  SetUpLogging(global, "info", "orchestrator");
  core::SystemClock clock;

  // A mistyped folder must not become a new, empty job store: the jobs would seem lost.
  if (const auto parent = std::filesystem::path(o.db).parent_path(); !parent.empty()) {
    std::error_code ec;
    if (o.db != ":memory:" && !std::filesystem::is_directory(parent, ec)) {
      return Fail(core::Status::InvalidArgument("--db " + o.db + ": the folder " + parent.string() +
                                                " does not exist"));
    }
  }
  auto store = core::JobStore::Open(o.db, core::JobStore::Sharing::kExclusive);
  if (!store.ok()) return Fail(store.status());
  const std::string model_dir = ModelStoreDir(o);
  auto model_store = core::ModelStore::Open(
      model_dir, clock, core::ModelStoreOptions{.max_model_bytes = o.max_model_bytes});
  if (!model_store.ok()) return Fail(model_store.status().WithPrefix("--model-store"));

  auto security = LoadServiceSecurity(o.tls, o.listen);
  if (!security.ok()) return Fail(security.status());
  auto rate = ParseRate(o.rate_limit);
  if (!rate.ok()) return Fail(rate.status());
  auto access = net::OrchestratorAccess::Create(
      net::AccessOptions{.auth_tokens = o.auth_tokens,
                         .client_certificates = security->server.client_certificates,
                         .node_token = security->node_token,
                         .rate_limit = *rate,
                         .rate_burst = o.rate_burst,
                         .audit_log = o.audit_log},
      clock);
  if (!access.ok()) return Fail(access.status());

  net::NodeRegistryOptions registry_options;
  registry_options.client = security->dial;
  registry_options.model_in_store = [models = model_store->get()](const std::string& id) {
    return models->Has(id);
  };
  registry_options.heartbeat_timeout =
      std::chrono::milliseconds(static_cast<int64_t>(o.heartbeat_timeout * 1000));
  net::NodeRegistry registry(clock, registry_options);
  std::vector<std::pair<std::string, std::string>> node_specs;  // (spec, where it came from)
  for (const auto& spec : o.nodes) node_specs.emplace_back(spec, "--node");
  if (!o.nodes_file.empty()) {
    auto lines = ReadNodesFile(o.nodes_file);
    if (!lines.ok()) return Fail(lines.status());
    for (auto& line : *lines) node_specs.push_back(std::move(line));
  }
  for (const auto& [spec, where] : node_specs) {
    auto node = core::ParseNameValue(spec, where);
    if (!node.ok()) return Fail(node.status());
    if (auto s = registry.AddStatic(node->first, node->second); !s.ok()) {
      return Fail(s.WithPrefix(where));
    }
  }

  // Each job's end is logged; with --metrics-listen its events are counted too.
  net::JobEventLog event_log;
  net::JobObservers observers;
  observers.Add(&event_log);
  net::Metrics metrics("orchestrator");
  std::atomic<core::JobService*> running_jobs{nullptr};  // set once the service exists
  std::unique_ptr<net::OrchestratorMetrics> job_metrics;
  std::string metrics_address;
  if (!o.metrics_listen.empty()) {
    job_metrics = std::make_unique<net::OrchestratorMetrics>(
        metrics,
        [&] {
          core::JobService* jobs = running_jobs.load();
          return jobs != nullptr ? jobs->CountNow() : core::JobService::Counts{};
        },
        [&] { return registry.Describe(); });
    observers.Add(job_metrics.get());
    auto bound = metrics.Serve(o.metrics_listen);
    if (!bound.ok()) return Fail(bound.status());
    metrics_address = *bound;
    WarnIfMetricsAreOpen(o.metrics_listen);
  }

  // Every live daemon heartbeats within --heartbeat-timeout: until then, after a start, jobs
  // wait for nodes that have not been heard from yet instead of failing.
  core::JobService jobs(
      **store, registry, clock,
      core::JobServiceOptions{.workers = o.workers,
                              .max_queued = o.max_queued,
                              .node_grace = registry_options.heartbeat_timeout,
                              .max_config_bytes = static_cast<size_t>(o.max_config_bytes),
                              .max_nodes_per_job = static_cast<size_t>(o.max_nodes_per_job),
                              .observer = &observers});
  running_jobs = &jobs;
  const MetricsStop stop_metrics{metrics};  // before the job service goes
  net::OrchestratorService service(jobs, registry, model_store->get(), access->get());
  net::PatternEngineService engine(jobs, net::PatternEngineOptions{.access = access->get()});
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  if (job_metrics) interceptors.push_back(metrics.RpcInterceptor());
  auto server = net::StartServer(o.listen, {&service, &engine}, security->server.credentials,
                                 o.max_message_bytes, std::move(interceptors));
  if (!server.ok()) return Fail(server.status());
  registry.Start();
  if (auto s = jobs.Start(); !s.ok()) return Fail(s);
  spdlog::info("dim orchestrator {} listening on {} (jobs in {}, {} static nodes)", DIM_VERSION,
               server->address, o.db, node_specs.size());
  spdlog::info("model store in {} ({} models, at most {} bytes each)", model_dir,
               (*model_store)->List().size(), o.max_model_bytes);
  if (!metrics_address.empty()) {
    spdlog::info("metrics on http://{}/metrics", metrics_address);
  }
  net::OrchestratorAccess& acl = **access;
  spdlog::info("security: {}; users {}; nodes {}{}{}", Describe(*security),
               acl.users_authenticate()
                   ? "authenticate (" +
                         (o.auth_tokens.empty()
                              ? std::string("client certificates")
                              : std::to_string(acl.token_count()) + " tokens in " + o.auth_tokens) +
                         ")"
                   : std::string("are not authenticated"),
               acl.nodes_authenticate() ? "authenticate" : "are not authenticated",
               *rate > 0 ? ", rate limit " + o.rate_limit + " per user" : std::string(),
               o.audit_log.empty() ? std::string() : ", audit log " + o.audit_log);
  if (struct stat st{}; !o.auth_tokens.empty() && acl.plain_token_count() > 0 &&
                        ::stat(o.auth_tokens.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    spdlog::warn(
        "{} holds {} tokens in the clear and others may read it: chmod 600 it, or "
        "write them as sha256:<hex>",
        o.auth_tokens, acl.plain_token_count());
  }
  if (acl.users_authenticate() && !acl.nodes_authenticate()) {
    spdlog::warn(
        "users authenticate but nodes do not: give --node-token or --tls-client-ca, or "
        "anyone who reaches this port can register a node");
  }

  const int sig = net::WaitForStopSignal([&] {
    if (o.auth_tokens.empty()) {
      spdlog::info("SIGHUP received: no --auth-tokens to reload");
      return;
    }
    if (auto s = acl.ReloadTokens(); !s.ok()) {
      spdlog::error("SIGHUP: tokens not reloaded, the old ones stay in use: {}", s.message());
    } else {
      spdlog::info("SIGHUP: {} tokens reloaded from {}", acl.token_count(), o.auth_tokens);
    }
  });
  spdlog::info("signal {} received; stopping", sig);
  net::EndProcessIfStoppingTakesLongerThan(kStopLimit);
  server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  metrics.Stop();
  jobs.Stop();
  registry.Stop();
  spdlog::info("stopped");
  return kExitOk;
}

// The model cache's events in the daemon's log: fetches and evictions at info, hits at debug.
void LogCacheEvent(const core::ModelCacheEvent& e) {
  using Kind = core::ModelCacheEvent::Kind;
  switch (e.kind) {
    case Kind::kHit:
      spdlog::debug("model cache hit: '{}' (sha256:{})", e.model_id, e.sha256);
      break;
    case Kind::kFetched:
      spdlog::info("model '{}' fetched: sha256:{} verified, {} bytes in {}", e.model_id, e.sha256,
                   e.size_bytes, core::FormatDuration(e.seconds));
      break;
    case Kind::kFetchFailed:
      spdlog::warn("model '{}' not fetched: {}", e.model_id, e.status.ToString());
      break;
    case Kind::kEvicted:
      spdlog::info("model '{}' evicted from the cache (sha256:{}, {} bytes; least recently used)",
                   e.model_id, e.sha256, e.size_bytes);
      break;
    case Kind::kStale:
      spdlog::info("model '{}' changed at the orchestrator (now sha256:{}); fetching it again",
                   e.model_id, e.sha256);
      break;
    case Kind::kWarning:
      spdlog::warn("model cache: {}", e.status.message());
      break;
  }
}

int ServeDaemon(const GlobalOptions& global, const DaemonOptions& o) {
  net::BlockStopSignals();
  SetUpLogging(global, "info", "daemon", o.node_id);
  core::SystemClock clock;

  core::DatasetCatalog datasets;
  for (const auto& spec : o.datasets) {
    auto ds = core::ParseNameValue(spec, "--dataset");
    if (!ds.ok()) return Fail(ds.status());
    if (auto s = datasets.Add(ds->first, ds->second); !s.ok()) return Fail(s);
  }
  if (datasets.entries().empty()) spdlog::warn("no --dataset given: this node can run no task");
  if (std::error_code ec;
      std::filesystem::exists(o.models, ec) && !std::filesystem::is_directory(o.models, ec)) {
    return Fail(core::Status::InvalidArgument("--models " + o.models + ": not a directory"));
  }
  // CLI11 admits only the names ParseDevice knows. A GPU asked for must be usable now, not
  // at the first task.
  const core::Device device = core::ParseDevice(o.device).value_or(core::Device::kCpu);
  if (device == core::Device::kCuda) {
    if (auto s = core::CheckCudaUsable(); !s.ok()) return Fail(s.WithPrefix("--device cuda"));
  }
  // With an orchestrator, --models is also a cache of the models fetched from its store.
  auto security = LoadServiceSecurity(o.tls, o.listen);
  if (!security.ok()) return Fail(security.status());
  if (!o.tls.cert.empty()) {
    // A certificate for another node would be refused by the orchestrator at each heartbeat.
    auto own = core::ReadCertificateFile(o.tls.cert);
    if (own.ok() && own->role == core::Role::kNode && own->name != o.node_id) {
      return Fail(core::Status::InvalidArgument("--tls-cert " + o.tls.cert + " is node '" +
                                                own->name + "''s certificate, but --node-id is '" +
                                                o.node_id + "'"));
    }
  }
  std::unique_ptr<net::ModelStoreClient> fetcher;
  if (!o.orchestrator.empty()) {
    fetcher = std::make_unique<net::ModelStoreClient>(
        o.orchestrator, net::ModelStoreClientOptions{.security = security->dial});
  }
  core::ModelRepository models(o.models, device,
                               core::ModelCacheOptions{.fetcher = fetcher.get(),
                                                       .max_bytes = o.cache_max_bytes,
                                                       .on_event = LogCacheEvent,
                                                       .clock = &clock});
  if (models.List().empty()) {
    if (fetcher) {
      spdlog::info("no models in {} yet: they are fetched from the orchestrator on first use",
                   o.models);
    } else {
      spdlog::warn("no models (*.onnx) in {}", o.models);
    }
  }

  // The site's custody of its data: the policy, and the ledger every release goes to.
  core::SitePolicy policy;
  if (!o.policy.empty()) {
    auto read = core::SitePolicy::Read(o.policy);
    if (!read.ok()) return Fail(read.status());
    policy = std::move(*read);
    for (const auto& name : policy.Datasets()) {
      if (!datasets.Has(name)) {
        spdlog::warn("--policy {} has rules for dataset '{}', which this node does not hold",
                     o.policy, name);
      }
    }
  }
  const std::string ledger_path = o.ledger.empty() ? core::DefaultLedgerPath(o.models) : o.ledger;
  auto ledger = core::Ledger::Open(ledger_path);
  if (!ledger.ok()) return Fail(ledger.status());
  // A broken chain is the data officer's to look into: the node still serves, and says so.
  if (auto broken = (*ledger)->Verify(); !broken.ok()) {
    return Fail(broken.status());
  } else if (broken->has_value()) {
    spdlog::error("--ledger {}: entry {} is broken: {} (see dim daemon ledger verify)", ledger_path,
                  (*broken)->first, (*broken)->second);
  }
  core::NodeCustody custody(o.node_id, o.min_samples, std::move(*ledger), clock);
  custody.SetPolicy(std::move(policy));
  net::Metrics metrics("daemon");
  std::unique_ptr<net::DaemonMetrics> task_metrics;  // with --metrics-listen
  // Each task's end is logged (and counted): set before any task can run.
  auto on_task_end = [&task_metrics](const core::TaskEnd& end) {
    net::LogScope scope(end.job_id);
    const std::string what = end.kind + " task, model '" + end.model + "' on " +
                             (end.dataset == "client rows" ? end.dataset : "'" + end.dataset + "'");
    if (end.state == core::TaskState::kCompleted) {
      spdlog::info("{} completed in {} ({} rows)", what, core::FormatDuration(end.seconds),
                   end.rows);
    } else {
      spdlog::warn("{} {} after {}: {}", what, core::TaskStateName(end.state),
                   core::FormatDuration(end.seconds), end.error.message());
    }
    if (task_metrics) task_metrics->OnTaskEnd(end);
  };
  core::TaskQueue tasks(models, datasets, clock,
                        core::TaskQueueOptions{.max_concurrent = o.max_concurrent_jobs,
                                               .max_queued = o.max_queued,
                                               .policy = {.min_samples = o.min_samples},
                                               .custody = &custody,
                                               .abandon_after = std::chrono::milliseconds(
                                                   std::llround(o.abandon_after * 1000)),
                                               .on_task_end = on_task_end});
  std::string metrics_address;
  if (!o.metrics_listen.empty()) {
    task_metrics = std::make_unique<net::DaemonMetrics>(
        metrics, [&] { return tasks.Stats(); }, [&] { return models.Stats(); });
    auto bound = metrics.Serve(o.metrics_listen);
    if (!bound.ok()) return Fail(bound.status());
    metrics_address = *bound;
    WarnIfMetricsAreOpen(o.metrics_listen);
  }
  const MetricsStop stop_metrics{metrics};  // before the task queue goes
  net::DaemonService service(o.node_id, models, datasets, tasks, o.max_concurrent_jobs);
  service.SetCustody(&custody);
  std::map<std::string, std::string> labels;
  for (const auto& spec : o.labels) {
    auto label = core::ParseNameValue(spec, "--label");
    if (!label.ok()) return Fail(label.status());
    if (!labels.emplace(label->first, label->second).second) {
      return Fail(core::Status::InvalidArgument("--label: '" + label->first + "' given twice"));
    }
  }
  service.SetLabels(labels);
  const net::TaskCallerCheck callers(security->server.client_certificates, security->node_token);
  if (callers.open() && !net::IsLoopbackHost(core::ParseHostPort(o.listen, 0)->host)) {
    spdlog::warn(
        "anyone who reaches {} can send this node tasks: give --tls-client-ca (mutual "
        "TLS) or --node-token",
        o.listen);
  }
  service.SetTaskCallers(callers);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  if (task_metrics) interceptors.push_back(metrics.RpcInterceptor());
  auto server = net::StartServer(o.listen, {&service}, security->server.credentials, 16 << 20,
                                 std::move(interceptors));
  if (!server.ok()) return Fail(server.status());
  for (const auto& d : datasets.entries()) {
    spdlog::info("dataset '{}': {} rows, {} columns ({})", d.name, d.shape.rows,
                 d.shape.columns.size(), d.path.string());
  }
  spdlog::info(
      "dim daemon {} node '{}' listening on {} (models in {}, run on {}, min_samples {}; {})",
      DIM_VERSION, o.node_id, server->address, o.models, core::DeviceName(device), o.min_samples,
      Describe(*security));
  spdlog::info("policy: {}; ledger {}", o.policy.empty() ? std::string("none") : o.policy,
               ledger_path);
  if (!metrics_address.empty()) {
    spdlog::info("metrics on http://{}/metrics", metrics_address);
  }

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
          req->set_fetches_models(true);
          *req->mutable_labels() = d.labels();
          *req->mutable_resources() = d.resources();
        },
        [&](dim::orchestrator::HeartbeatRequest* req) {
          dim::daemon::DescribeNodeResponse d;
          service.Describe(&d);
          req->set_node_id(o.node_id);
          req->set_active_jobs(d.active_jobs());
          req->set_queued_jobs(d.queued_jobs());
          *req->mutable_datasets() = d.datasets();
          *req->mutable_models() = d.models();
          *req->mutable_resources() = d.resources();
        },
        security->dial);
    announcer->Start();
  }

  const int sig = net::WaitForStopSignal([&] {
    if (o.policy.empty()) {
      spdlog::info("SIGHUP received: no --policy to reload");
      return;
    }
    auto read = core::SitePolicy::Read(o.policy);
    if (!read.ok()) {
      spdlog::error("SIGHUP: policy not reloaded, the old one stays in force: {}",
                    read.status().message());
      return;
    }
    custody.SetPolicy(std::move(*read));
    spdlog::info("SIGHUP: policy reloaded from {}", o.policy);
  });
  spdlog::info("signal {} received; stopping", sig);
  net::EndProcessIfStoppingTakesLongerThan(kStopLimit);
  if (announcer) announcer->Stop();
  server->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  metrics.Stop();
  spdlog::info("stopped");
  return kExitOk;
}

void AddTlsOptions(CLI::App* serve, TlsOptions& t, const std::string& peer) {
  serve
      ->add_option("--tls-cert", t.cert,
                   "This service's certificate (PEM): serve TLS, and present it to the " + peer)
      ->type_name("FILE");
  serve->add_option("--tls-key", t.key, "The private key (PEM) of --tls-cert")->type_name("FILE");
  serve
      ->add_option("--tls-client-ca", t.client_ca,
                   "CA (PEM) whose client certificates are verified: mutual TLS (default: "
                   "--tls-ca, with --tls-cert)")
      ->type_name("FILE");
  serve
      ->add_option("--tls-ca", t.ca,
                   "CA (PEM) that verifies the " + peer + " (default: --tls-client-ca)")
      ->type_name("FILE");
  serve->add_flag("--insecure", t.insecure,
                  "Allow a non-loopback --listen without TLS (a private network only)");
  serve
      ->add_option("--node-token", t.node_token,
                   "File holding a secret shared by the orchestrator and its daemons: nodes "
                   "and task callers must send it (first line, at least 16 bytes)")
      ->type_name("FILE");
}

// The global options a service reads, and so the ones its --config file may give.
const std::vector<std::string> kServiceGlobalKeys = {"log-level", "log-format"};

void AddMetricsOption(CLI::App* serve, std::string& metrics_listen) {
  serve
      ->add_option("--metrics-listen", metrics_listen,
                   "Serve Prometheus metrics on http://HOST:PORT/metrics (port 0: any free "
                   "port; default: none)")
      ->check(HostPort(/*allow_port_zero=*/true));
}

}  // namespace

void AddServeCommands(CLI::App& app, GlobalOptions& options, int& exit_code) {
  auto orchestrator = std::make_shared<OrchestratorOptions>();
  auto* orch = app.add_subcommand("orchestrator", "The orchestrator service");
  orch->require_subcommand(1);
  auto* orch_serve = orch->add_subcommand(
      "serve", "Run the orchestrator in the foreground (stop with Ctrl-C or SIGTERM)");
  AddServiceConfigOption(app, *orch_serve, kServiceGlobalKeys);
  orch_serve
      ->add_option("--listen", orchestrator->listen, "Address to listen on (port 0: any free port)")
      ->check(HostPort(/*allow_port_zero=*/true))
      ->capture_default_str();
  AddMetricsOption(orch_serve, orchestrator->metrics_listen);
  orch_serve->add_option("--db", orchestrator->db, "SQLite file that keeps the jobs")
      ->capture_default_str()
      ->type_name("FILE");
  orch_serve->add_option("--node", orchestrator->nodes, "A static node: ID=HOST:PORT (repeatable)")
      ->type_name("ID=HOST:PORT");
  orch_serve
      ->add_option("--nodes-file", orchestrator->nodes_file,
                   "A file of static nodes, one ID=HOST:PORT per line (# comments)")
      ->type_name("FILE");
  orch_serve->add_option("--max-concurrent-jobs,--workers", orchestrator->workers, "Jobs run at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  orch_serve->add_option("--max-queued-jobs", orchestrator->max_queued,
                         "Jobs waiting before new ones are refused (RESOURCE_EXHAUSTED)")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  orch_serve
      ->add_option("--model-store", orchestrator->model_store,
                   "Folder of the pushed models (default: the --db path + .models)")
      ->type_name("DIR");
  orch_serve
      ->add_option("--max-model-bytes", orchestrator->max_model_bytes,
                   "Largest model a push may send (e.g. 512M, 1G)")
      ->transform(ByteSize())
      ->capture_default_str();
  orch_serve
      ->add_option("--heartbeat-timeout", orchestrator->heartbeat_timeout,
                   "Seconds without a heartbeat before a node is inactive")
      ->check(Seconds())
      ->capture_default_str();
  AddTlsOptions(orch_serve, orchestrator->tls, "daemons");
  orch_serve
      ->add_option("--auth-tokens", orchestrator->auth_tokens,
                   "Users: a file of TOKEN USER ROLE lines (role user or admin; TOKEN may "
                   "be sha256:<hex>); re-read on SIGHUP")
      ->type_name("FILE");
  orch_serve
      ->add_option("--rate-limit", orchestrator->rate_limit,
                   "Calls each user (or host) may make: N/s or N/m (default: no limit)")
      ->type_name("RATE");
  orch_serve
      ->add_option("--rate-burst", orchestrator->rate_burst,
                   "Calls a user may make at once above --rate-limit (default: the rate)")
      ->check(CLI::PositiveNumber);
  orch_serve
      ->add_option("--audit-log", orchestrator->audit_log,
                   "Append a JSON line for every state-changing or refused call to FILE")
      ->type_name("FILE");
  orch_serve
      ->add_option("--max-message-bytes", orchestrator->max_message_bytes,
                   "Largest request message (e.g. 16M)")
      ->transform(ByteSize())
      ->check(CLI::Range(int64_t{1} << 16, int64_t{1} << 30))
      ->capture_default_str();
  orch_serve
      ->add_option("--max-config-bytes", orchestrator->max_config_bytes,
                   "Largest job config (e.g. 1M; at most 12M)")
      ->transform(ByteSize())
      ->check(CLI::Range(int64_t{1024}, static_cast<int64_t>(core::kMaxConfigBytes)))
      ->capture_default_str();
  orch_serve
      ->add_option("--max-nodes-per-job", orchestrator->max_nodes_per_job,
                   "Most nodes one job may run on")
      ->check(CLI::Range(1, static_cast<int>(core::kMaxNodesPerJob)))
      ->capture_default_str();
  orch_serve->callback([&, orchestrator] { exit_code = ServeOrchestrator(options, *orchestrator); });

  auto daemon = std::make_shared<DaemonOptions>();
  auto* dmn = app.add_subcommand("daemon", "The daemon service of a node");
  dmn->require_subcommand(1);
  auto* dmn_serve = dmn->add_subcommand(
      "serve", "Run a node's daemon in the foreground (stop with Ctrl-C or SIGTERM)");
  AddServiceConfigOption(app, *dmn_serve, kServiceGlobalKeys);
  dmn_serve->add_option("--node-id", daemon->node_id, "This node's id")
      ->required()
      ->check(NodeId());
  dmn_serve->add_option("--listen", daemon->listen, "Address to listen on (port 0: any free port)")
      ->check(HostPort(/*allow_port_zero=*/true))
      ->capture_default_str();
  AddMetricsOption(dmn_serve, daemon->metrics_listen);
  dmn_serve
      ->add_option("--dataset", daemon->datasets,
                   "A dataset this node owns: NAME=PATH to a CSV file (repeatable)")
      ->type_name("NAME=CSV");
  dmn_serve->add_option("--models", daemon->models, "Model folder: NAME.onnx serves model NAME")
      ->capture_default_str()
      ->type_name("DIR");
  dmn_serve->add_option("--device", daemon->device, "Where models run: cpu, or cuda (a GPU)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  dmn_serve
      ->add_option("--orchestrator", daemon->orchestrator,
                   "Orchestrator to register with and heartbeat to (HOST:PORT)")
      ->check(HostPort(/*allow_port_zero=*/false));
  dmn_serve
      ->add_option("--advertise", daemon->advertise,
                   "Address the orchestrator should dial (default: the listen address)")
      ->check(HostPort(/*allow_port_zero=*/false));
  dmn_serve->add_option("--max-concurrent-jobs", daemon->max_concurrent_jobs, "Tasks run at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  dmn_serve->add_option("--max-queued", daemon->max_queued, "Tasks waiting before new ones are refused")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  dmn_serve
      ->add_option("--cache-max-bytes", daemon->cache_max_bytes,
                   "With --orchestrator: keep the models fetched into --models within this "
                   "size (e.g. 500M, 2G; 0: no limit), evicting the least recently used; "
                   "files put there by hand are never deleted")
      ->transform(ByteSize())
      ->capture_default_str();
  dmn_serve
      ->add_option("--abandon-after", daemon->abandon_after,
                   "Cancel a task its orchestrator stopped following this many seconds ago "
                   "(it restarted, or lost this node); 0: never")
      ->check(Seconds(/*allow_zero=*/true))
      ->capture_default_str();
  dmn_serve
      ->add_option("--label", daemon->labels, "A label for node selection: KEY=VALUE (repeatable)")
      ->check(Utf8Text())
      ->type_name("KEY=VALUE");
  dmn_serve
      ->add_option("--min-samples", daemon->min_samples,
                   "Refuse collaborative (summary) tasks on datasets with fewer rows "
                   "(0 or 1: allow all)")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()))
      ->capture_default_str();
  AddTlsOptions(dmn_serve, daemon->tls, "orchestrator");
  dmn_serve
      ->add_option("--policy", daemon->policy,
                   "The site's policy for its datasets (JSON; re-read on SIGHUP)")
      ->type_name("FILE");
  dmn_serve
      ->add_option("--ledger", daemon->ledger,
                   "SQLite file of every release (default: the --models path + .ledger.db)")
      ->type_name("FILE");
  dmn_serve->callback([&, daemon] { exit_code = ServeDaemon(options, *daemon); });
}

}  // namespace dim::cli
