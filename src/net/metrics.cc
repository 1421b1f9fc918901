#include "net/metrics.h"

#include <prometheus/collectable.h>
#include <prometheus/counter.h>
#include <prometheus/exposer.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>
#include <set>

#include "core/clock.h"
#include "core/host_port.h"
#include "core/text.h"
#include "net/log.h"

namespace dim::net {
namespace {

// Durations from a millisecond to an hour: RPCs, node tasks and jobs alike.
prometheus::Histogram::BucketBoundaries SecondsBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
          1,     2.5,    5,     10,   30,    60,   300, 900,  3600};
}

// The families Metrics::AddCollector was given, made at each scrape.
class CollectorSet final : public prometheus::Collectable {
 public:
  void Add(Metrics::Collector c) {
    std::lock_guard lock(mu_);
    collectors_.push_back(std::move(c));
  }
  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> out;
    std::lock_guard lock(mu_);
    for (const auto& c : collectors_) {
      // A collector that throws must not take the scrape (or the HTTP thread) down.
      try {
        auto families = c();
        for (auto& f : families) out.push_back(std::move(f));
      } catch (const std::exception& e) {
        spdlog::warn("metrics: a collector failed: {}", e.what());
      }
    }
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::vector<Metrics::Collector> collectors_;
};

prometheus::MetricFamily Family(std::string name, std::string help, prometheus::MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void AddGauge(prometheus::MetricFamily& f, double value,
              std::vector<prometheus::ClientMetric::Label> labels = {}) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

// dim_rpc_duration_seconds of one call, observed as its status is sent.
class RpcInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcInterceptor(std::string service, std::string method,
                 prometheus::Family<prometheus::Histogram>* family)
      : service_(std::move(service)),
        method_(std::move(method)),
        family_(family),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const auto code = static_cast<core::StatusCode>(methods->GetSendStatus().error_code());
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      family_
          ->Add({{"service", service_},
                 {"method", method_},
                 {"code", std::string(core::StatusCodeName(code))}},
                SecondsBuckets())
          .Observe(seconds);
    }
    methods->Proceed();
  }

 private:
  std::string service_;
  std::string method_;
  prometheus::Family<prometheus::Histogram>* family_;
  std::chrono::steady_clock::time_point start_;
};

class RpcInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcInterceptorFactory(prometheus::Family<prometheus::Histogram>* family)
      : family_(family) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    // "/dim.orchestrator.Orchestrator/SubmitJob": the service and the method. A call to a
    // method no service has still comes here, named by the caller: bounded.
    const std::string path = info->method() != nullptr ? info->method() : "";
    const auto slash = path.rfind('/');
    std::string service = slash == std::string::npos || slash == 0 ? "" : path.substr(1, slash - 1);
    std::string method = slash == std::string::npos ? path : path.substr(slash + 1);
    const std::string admitted = labels_.Admit(path);
    if (admitted == "other") service = method = "other";
    return new RpcInterceptor(std::move(service), std::move(method), family_);
  }

 private:
  prometheus::Family<prometheus::Histogram>* family_;
  BoundedLabels labels_;
};

}  // namespace

std::string BoundedLabels::Admit(const std::string& value) {
  std::lock_guard lock(mu_);
  if (seen_.count(value) > 0) return value;
  if (seen_.size() >= kMaxLabelValues) return "other";
  seen_.insert(value);
  return value;
}

Metrics::Metrics(const std::string& role)
    : registry_(std::make_shared<prometheus::Registry>()),
      collectors_(std::make_shared<CollectorSet>()) {
  rpc_duration_ = &prometheus::BuildHistogram()
                       .Name("dim_rpc_duration_seconds")
                       .Help(
                           "gRPC calls served, by service, method and status code, and how "
                           "long they took")
                       .Register(*registry_);
  const double start =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  AddCollector([start, role] {
    auto started = Family("dim_process_start_time_seconds",
                          "When the process started, in seconds since the Unix epoch",
                          prometheus::MetricType::Gauge);
    AddGauge(started, start);
    auto info =
        Family("dim_build_info", "The running version (always 1)", prometheus::MetricType::Gauge);
    AddGauge(info, 1, {{"version", DIM_VERSION}, {"role", role}});
    return std::vector<prometheus::MetricFamily>{std::move(started), std::move(info)};
  });
}

Metrics::~Metrics() = default;

void Metrics::AddCollector(Collector collector) {
  static_cast<CollectorSet&>(*collectors_).Add(std::move(collector));
}

core::Result<std::string> Metrics::Serve(const std::string& listen) {
  auto parsed = core::ParseHostPort(listen, 0);
  if (!parsed.ok()) {
    return core::Status::InvalidArgument("--metrics-listen '" + listen + "' is not HOST:PORT");
  }
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/2);
  } catch (const std::exception& e) {
    return core::Status::Unavailable("--metrics-listen: cannot listen on " + listen +
                                     " (in use, or not an address of this machine): " + e.what());
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(collectors_);
  const auto ports = exposer_->GetListeningPorts();
  if (ports.empty()) {
    exposer_.reset();
    return core::Status::Unavailable("--metrics-listen: cannot listen on " + listen);
  }
  return parsed->host + ":" + std::to_string(ports.front());
}

void Metrics::Stop() { exposer_.reset(); }

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> Metrics::RpcInterceptor() {
  return std::make_unique<RpcInterceptorFactory>(rpc_duration_);
}

OrchestratorMetrics::OrchestratorMetrics(
    Metrics& metrics, std::function<core::JobService::Counts()> counts,
    std::function<std::vector<core::NodeDescription>()> nodes) {
  auto& registry = metrics.registry();
  submitted_ = &prometheus::BuildCounter()
                    .Name("dim_jobs_submitted_total")
                    .Help("Jobs accepted, by pattern")
                    .Register(registry);
  finished_ = &prometheus::BuildCounter()
                   .Name("dim_jobs_finished_total")
                   .Help("Jobs that ended, by pattern and state (completed, failed, cancelled)")
                   .Register(registry);
  duration_ = &prometheus::BuildHistogram()
                   .Name("dim_job_duration_seconds")
                   .Help("Time from a job's submission to its end, by pattern and state")
                   .Register(registry);
  node_tasks_ = &prometheus::BuildCounter()
                     .Name("dim_node_tasks_finished_total")
                     .Help("Node tasks of jobs that ended, by node and status")
                     .Register(registry);
  metrics.AddCollector([counts = std::move(counts), nodes = std::move(nodes)] {
    const auto now = counts();
    auto queued = Family("dim_jobs_queued", "Jobs waiting to run", prometheus::MetricType::Gauge);
    AddGauge(queued, static_cast<double>(now.queued));
    auto running = Family("dim_jobs_running", "Jobs running", prometheus::MetricType::Gauge);
    AddGauge(running, static_cast<double>(now.running));
    auto up = Family("dim_node_up", "1 for an active node, 0 for one that is not",
                     prometheus::MetricType::Gauge);
    auto active = Family("dim_node_active_tasks", "Tasks a node runs, as it last said",
                         prometheus::MetricType::Gauge);
    auto waiting = Family("dim_node_queued_tasks", "Tasks waiting on a node, as it last said",
                          prometheus::MetricType::Gauge);
    auto reputation =
        Family("dim_node_reputation", "Share of a node's recent tasks that succeeded (0 to 1)",
               prometheus::MetricType::Gauge);
    for (const auto& n : nodes()) {
      AddGauge(up, n.active ? 1 : 0, {{"node", n.id}});
      AddGauge(active, n.active_jobs, {{"node", n.id}});
      AddGauge(waiting, n.queued_jobs, {{"node", n.id}});
      AddGauge(reputation, n.reputation, {{"node", n.id}});
    }
    std::vector<prometheus::MetricFamily> out;
    for (auto* f : {&queued, &running, &up, &active, &waiting, &reputation}) {
      out.push_back(std::move(*f));
    }
    return out;
  });
}

void OrchestratorMetrics::OnJobEvent(const core::JobEventNotice& n) {
  const std::string pattern(core::PatternName(n.pattern));
  switch (n.event.kind) {
    case core::JobEventKind::kSubmitted:
      submitted_->Add({{"pattern", pattern}}).Increment();
      break;
    case core::JobEventKind::kEnded: {
      const std::string state = core::AsciiLower(core::JobStateName(n.state));
      finished_->Add({{"pattern", pattern}, {"state", state}}).Increment();
      duration_->Add({{"pattern", pattern}, {"state", state}}, SecondsBuckets()).Observe(n.seconds);
      break;
    }
    case core::JobEventKind::kTaskEnded:
      // Node ids are the orchestrator's own (registered or configured): bounded.
      if (n.task_state != core::TaskState::kSkipped) {
        node_tasks_
            ->Add({{"node", n.event.node_id},
                   {"status", std::string(core::TaskStateName(n.task_state))}})
            .Increment();
      }
      break;
    default:
      break;
  }
}

DaemonMetrics::DaemonMetrics(Metrics& metrics, std::function<core::TaskStats()> tasks,
                             std::function<core::ModelCacheStats()> cache) {
  auto& registry = metrics.registry();
  rows_ = &prometheus::BuildCounter()
               .Name("dim_rows_inferred_total")
               .Help("Rows the node's completed tasks ran their models on, by dataset and model")
               .Register(registry);
  duration_ = &prometheus::BuildHistogram()
                   .Name("dim_task_duration_seconds")
                   .Help("How long the node's tasks ran, by kind, dataset, model and status")
                   .Register(registry);
  metrics.AddCollector([tasks = std::move(tasks), cache = std::move(cache)] {
    const core::TaskStats t = tasks();
    const core::ModelCacheStats c = cache();
    std::vector<prometheus::MetricFamily> out;
    auto gauge = [&](const char* name, const char* help, double value) {
      auto f = Family(name, help, prometheus::MetricType::Gauge);
      AddGauge(f, value);
      out.push_back(std::move(f));
    };
    auto counter = [&](const char* name, const char* help, double value) {
      auto f = Family(name, help, prometheus::MetricType::Counter);
      AddGauge(f, value);
      out.push_back(std::move(f));
    };
    gauge("dim_tasks_active", "Tasks running on this node", t.active);
    gauge("dim_tasks_queued", "Tasks waiting on this node", t.queued);
    counter("dim_model_cache_hits_total", "Models served from the model folder",
            static_cast<double>(c.hits));
    counter("dim_model_cache_misses_total",
            "Models that had to be fetched from the orchestrator (or were not found)",
            static_cast<double>(c.misses));
    counter("dim_model_cache_evictions_total", "Fetched models evicted to stay within the limit",
            static_cast<double>(c.evictions));
    counter("dim_model_cache_fetch_failures_total", "Fetches of models that failed",
            static_cast<double>(c.fetch_failures));
    gauge("dim_model_cache_models", "Models in the model folder", static_cast<double>(c.models));
    gauge("dim_model_cache_bytes", "Bytes of the models in the model folder",
          static_cast<double>(c.total_bytes));
    gauge("dim_model_cache_fetched_bytes", "Bytes of the fetched (evictable) models",
          static_cast<double>(c.fetched_bytes));
    gauge("dim_model_cache_max_bytes", "The cache's limit (--cache-max-bytes; 0: none)",
          static_cast<double>(c.max_bytes));
    return out;
  });
}

void DaemonMetrics::OnTaskEnd(const core::TaskEnd& end) {
  // Datasets are the node's own; models are what tasks named and the node could load or
  // fetch: bounded in practice, and bounded here whatever callers send.
  std::string key = end.dataset;
  key.append(1, '\0').append(end.model);
  const bool admitted = datasets_and_models_.Admit(key) != "other";
  const std::string dataset = admitted ? end.dataset : "other";
  const std::string model = admitted ? end.model : "other";
  duration_
      ->Add({{"kind", end.kind},
             {"dataset", dataset},
             {"model", model},
             {"status", std::string(core::TaskStateName(end.state))}},
            SecondsBuckets())
      .Observe(end.seconds);
  if (end.rows > 0) {
    rows_->Add({{"dataset", dataset}, {"model", model}}).Increment(static_cast<double>(end.rows));
  }
}

void JobEventLog::OnJobEvent(const core::JobEventNotice& n) {
  LogScope scope(n.job_id);
  const std::string_view name = core::JobEventName(n.event.kind);
  switch (n.event.kind) {
    case core::JobEventKind::kEnded:
      if (n.state == core::JobState::kCompleted) {
        spdlog::info("{} job {} in {}", core::PatternName(n.pattern), n.event.detail,
                     core::FormatDuration(n.seconds));
      } else {
        spdlog::warn("{} job {} after {}", core::PatternName(n.pattern), n.event.detail,
                     core::FormatDuration(n.seconds));
      }
      break;
    case core::JobEventKind::kTaskEnded:
      // The daemon logs each of its tasks' ends; here only those that did not complete.
      if (n.task_state == core::TaskState::kCompleted ||
          n.task_state == core::TaskState::kSkipped) {
        spdlog::debug("{} node {}: {}", name, n.event.node_id, n.event.detail);
      } else {
        spdlog::warn("{} node {}: {}", name, n.event.node_id, n.event.detail);
      }
      break;
    case core::JobEventKind::kFellBack:
    case core::JobEventKind::kTaskRetried:
    case core::JobEventKind::kCancelRequested:
      spdlog::info("{} {}{}{}", name, n.event.node_id.empty() ? "" : "node " + n.event.node_id,
                   n.event.node_id.empty() || n.event.detail.empty() ? "" : ": ", n.event.detail);
      break;
    default:
      spdlog::debug("{} {}{}", name, n.event.node_id.empty() ? "" : n.event.node_id + " ",
                    n.event.detail);
      break;
  }
}

}  // namespace dim::net
