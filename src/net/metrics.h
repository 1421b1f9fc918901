// Prometheus metrics of the services (--metrics-listen): the text format on
// http://HOST:PORT/metrics, served by prometheus-cpp. Names follow Prometheus' conventions:
// the dim_ prefix, base units (_seconds, _bytes), _total for counters.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/engine/job_service.h"
#include "core/node/node_client.h"
#include "core/node/task_queue.h"
#include "core/status.h"

namespace prometheus {
class Exposer;
class Registry;
class Collectable;
struct MetricFamily;
template <typename T>
class Family;
class Counter;
class Histogram;
}  // namespace prometheus

namespace dim::net {

// A service's metrics: a registry, families filled at scrape time, and, once Serve() is
// called, its HTTP endpoint. Thread-safe.
class Metrics final {
 public:
  // `role`: "orchestrator" or "daemon" (dim_build_info's label).
  explicit Metrics(const std::string& role);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Serves the metrics on `listen` (HOST:PORT; port 0: any free one). UNAVAILABLE when it
  // cannot listen there (in use, not an address of this machine). Returns HOST:PORT bound.
  core::Result<std::string> Serve(const std::string& listen);
  // Stops serving: no collector runs once this returns (call it before what they read goes).
  void Stop();

  // dim_rpc_duration_seconds{service, method, code}: for grpc::ServerBuilder.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> RpcInterceptor();

  // Families made at each scrape (gauges read from the service then).
  using Collector = std::function<std::vector<prometheus::MetricFamily>()>;
  void AddCollector(Collector collector);

  prometheus::Registry& registry() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> collectors_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  prometheus::Family<prometheus::Histogram>* rpc_duration_;
};

// Label values as a family may take them: the first kMaxLabelValues distinct ones as they are,
// "other" after them. Peers choose some values (a method name, a model name), and each value
// is a series kept for the life of the process. Thread-safe.
class BoundedLabels final {
 public:
  static constexpr size_t kMaxLabelValues = 256;
  std::string Admit(const std::string& value);

 private:
  std::mutex mu_;
  std::set<std::string> seen_;
};

// The orchestrator's job metrics: jobs submitted and finished (by pattern and state), their
// duration, node tasks ended (by node and status); and at each scrape jobs queued and
// running, and each node's state.
class OrchestratorMetrics final : public core::JobObserver {
 public:
  OrchestratorMetrics(Metrics& metrics, std::function<core::JobService::Counts()> counts,
                      std::function<std::vector<core::NodeDescription>()> nodes);
  void OnJobEvent(const core::JobEventNotice& notice) override;

 private:
  prometheus::Family<prometheus::Counter>* submitted_;
  prometheus::Family<prometheus::Counter>* finished_;
  prometheus::Family<prometheus::Histogram>* duration_;
  prometheus::Family<prometheus::Counter>* node_tasks_;
};

// The daemon's task metrics: rows inferred and task durations by dataset and model, and at
// each scrape its tasks active and queued and its model cache.
class DaemonMetrics final {
 public:
  DaemonMetrics(Metrics& metrics, std::function<core::TaskStats()> tasks,
                std::function<core::ModelCacheStats()> cache);
  void OnTaskEnd(const core::TaskEnd& end);

 private:
  prometheus::Family<prometheus::Counter>* rows_;
  prometheus::Family<prometheus::Histogram>* duration_;
  // (dataset, model) pairs, bounded: beyond the first ones both are counted as "other".
  BoundedLabels datasets_and_models_;
};

// Logs a job's events at info (its end, with its state and duration; each node task's end)
// and debug (the rest), each line naming the job.
class JobEventLog final : public core::JobObserver {
 public:
  void OnJobEvent(const core::JobEventNotice& notice) override;
};

// Passes each event to every observer, in order.
class JobObservers final : public core::JobObserver {
 public:
  void Add(core::JobObserver* observer) { observers_.push_back(observer); }
  void OnJobEvent(const core::JobEventNotice& notice) override {
    for (auto* o : observers_) o->OnJobEvent(notice);
  }

 private:
  std::vector<core::JobObserver*> observers_;
};

}  // namespace dim::net
