#include "net/node_registry.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "core/host_port.h"
#include "core/input_limits.h"
#include "core/text.h"
#include "daemon.grpc.pb.h"
#include "net/grpc_node.h"
#include "net/grpc_status.h"
#include "net/node_convert.h"

namespace dim::net {
namespace {

// Records what a node has just said of itself (its DescribeNode answer, its registration or
// a heartbeat: the three share these fields), and that it is active.
template <typename Report>
void RecordReport(const Report& report, const core::Clock& clock, core::NodeDescription& d,
                  std::chrono::steady_clock::time_point& last_seen) {
  d.active = true;
  d.error.clear();
  d.datasets = DatasetsFromProto(report.datasets());
  d.models.assign(report.models().begin(), report.models().end());
  if (report.has_resources()) d.resources = ResourcesFromProto(report.resources());
  d.last_seen = core::FormatIso8601(clock.Now());
  last_seen = std::chrono::steady_clock::now();
}

// Limits on what a node may report of itself: far above any real node, low enough that no
// report costs the orchestrator much. Names and column counts are bounded as a job's config
// bounds them, so whatever a node reports can be named in a job.
constexpr int kMaxDatasets = 1000;
constexpr int kMaxModels = 100000;
constexpr int kMaxLabels = 100;
constexpr int kMaxSlots = 1000000;
using core::kMaxColumns;
using core::kMaxNameBytes;

core::Status Invalid(const std::string& node_id, const std::string& what) {
  return core::Status::InvalidArgument("node '" + core::Snippet(node_id) + "': " + what);
}

// HOST:PORT with a host and a port in 1..65535 that the orchestrator can dial.
core::Status CheckAddress(const std::string& node_id, const std::string& address) {
  if (address.size() <= 512 && core::ParseHostPort(address, 1).ok()) return core::Status::Ok();
  return Invalid(node_id, "address '" + core::Snippet(address) +
                              "' is not HOST:PORT with a port from 1 to 65535");
}

core::Status CheckCount(const std::string& node_id, const std::string& what, int64_t value,
                        int64_t max) {
  if (value < 0 || value > max) {
    return Invalid(node_id, what + " must be from 0 to " + std::to_string(max) + ", got " +
                                std::to_string(value));
  }
  return core::Status::Ok();
}

// What every report (registration, heartbeat) says of the node's datasets, models and
// machine: counts that are not negative, names that are not empty, bounded lists.
template <typename Report>
core::Status CheckReport(const Report& report) {
  const std::string& id = report.node_id();
  DIM_RETURN_IF_ERROR(core::CheckNodeId(id));
  DIM_RETURN_IF_ERROR(
      CheckCount(id, "the number of datasets", report.datasets_size(), kMaxDatasets));
  DIM_RETURN_IF_ERROR(CheckCount(id, "the number of models", report.models_size(), kMaxModels));
  for (const auto& d : report.datasets()) {
    if (d.name().empty() || d.name().size() > kMaxNameBytes) {
      return Invalid(id,
                     "a dataset name must have 1 to " + std::to_string(kMaxNameBytes) + " bytes");
    }
    const std::string what = "dataset '" + core::Snippet(d.name()) + "'";
    if (d.rows() < 0)
      return Invalid(id, what + ": rows must not be negative, got " + std::to_string(d.rows()));
    DIM_RETURN_IF_ERROR(
        CheckCount(id, what + ": the number of columns", d.columns_size(), kMaxColumns));
  }
  for (const auto& m : report.models()) {
    if (m.empty() || m.size() > kMaxNameBytes) {
      return Invalid(id, "a model name must have 1 to " + std::to_string(kMaxNameBytes) + " bytes");
    }
  }
  if (report.has_resources()) {
    const auto& r = report.resources();
    DIM_RETURN_IF_ERROR(CheckCount(id, "cpu_available", r.cpu_available(), kMaxSlots));
    DIM_RETURN_IF_ERROR(CheckCount(id, "memory_available_gb", r.memory_available_gb(), kMaxSlots));
    for (const float percent : {r.cpu_percent(), r.memory_percent()}) {
      if (!(std::isfinite(percent) && percent >= 0 && percent <= 100)) {
        return Invalid(id, "a resource percentage must be from 0 to 100");
      }
    }
  }
  return core::Status::Ok();
}

}  // namespace

NodeRegistry::NodeRegistry(const core::Clock& clock, NodeRegistryOptions options)
    : clock_(clock), options_(options) {
  // Three heartbeats fit in the timeout, so one lost heartbeat does not make a node inactive.
  options_.heartbeat_interval = std::max(
      std::chrono::milliseconds(50),
      std::min(options_.heartbeat_interval, options_.heartbeat_timeout / 3));
}

NodeRegistry::~NodeRegistry() { Stop(); }

void NodeRegistry::Connect(Entry& e, const std::string& id, const std::string& address) const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  // A restarted daemon is reached again within a fraction of a second, not after gRPC's
  // reconnect backoff of 1 s and growing.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  e.channel = options_.client.Dial(address, args);
  // A node unreachable for half the heartbeat timeout (at most GrpcNode::kLostAfter) has
  // lost its running task: the job learns it before the node is even marked inactive.
  const auto lost_after = std::min<std::chrono::milliseconds>(GrpcNode::kLostAfter,
                                                              options_.heartbeat_timeout / 2);
  e.client = std::make_shared<GrpcNode>(id, address, e.channel, lost_after,
                                        options_.client.authorization());
}

core::Status NodeRegistry::AddStatic(const std::string& id, const std::string& address) {
  if (id.empty() || address.empty()) {
    return core::Status::InvalidArgument("--node needs ID=HOST:PORT");
  }
  std::lock_guard lock(mu_);
  if (nodes_.count(id)) return core::Status::InvalidArgument("node '" + id + "' given twice");
  Entry e;
  e.description.id = id;
  e.description.address = address;
  e.description.source = "static";
  e.description.active = false;  // until it answers
  Connect(e, id, address);
  nodes_.emplace(id, std::move(e));
  return core::Status::Ok();
}

void NodeRegistry::Start() {
  PollStaticNodes();
  poller_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      cv_.wait_for(lock, std::min(options_.poll_interval, options_.heartbeat_timeout / 3));
      if (stopping_) break;
      lock.unlock();
      PollStaticNodes();
      ExpireSilentNodes();
      lock.lock();
    }
  });
}

void NodeRegistry::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

void NodeRegistry::PollStaticNodes() {
  std::vector<std::pair<std::string, std::string>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, e] : nodes_) {
      if (e.description.source == "static") targets.emplace_back(id, e.description.address);
    }
  }
  for (const auto& [id, address] : targets) PollStaticNode(id);
}

void NodeRegistry::PollStaticNode(const std::string& id) {
  std::shared_ptr<grpc::Channel> channel;
  {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return;
    channel = it->second.channel;
  }
  auto stub = dim::daemon::Daemon::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  options_.client.Authorize(ctx);
  dim::daemon::DescribeNodeResponse resp;
  grpc::Status s = stub->DescribeNode(&ctx, dim::daemon::DescribeNodeRequest{}, &resp);
  std::lock_guard lock(mu_);
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return;
  auto& d = it->second.description;
  const bool was_active = d.active;
  if (s.ok()) {
    if (!was_active) spdlog::info("node '{}' at {} is back", id, d.address);
    RecordReport(resp, clock_, d, it->second.last_seen);
    d.described = true;
    d.max_concurrent_jobs = resp.max_concurrent_jobs();
    d.active_jobs = resp.active_jobs();
    d.queued_jobs = resp.queued_jobs();
    d.labels = LabelsFromProto(resp.labels());
    // A static daemon started with --orchestrator (this one, as the operator set it up)
    // fetches models from the store like a registered one.
    d.can_get_model = resp.fetches_models() ? options_.model_in_store : nullptr;
  } else {
    d.active = false;
    d.error = "health check failed: " + s.error_message();
    if (was_active) spdlog::warn("node '{}' at {} lost: {}", id, d.address, d.error);
  }
}

void NodeRegistry::ExpireSilentNodes() {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  for (auto& [id, e] : nodes_) {
    if (e.description.source == "registered" && e.description.active &&
        now - e.last_seen > options_.heartbeat_timeout) {
      e.description.active = false;
      e.description.error = "no heartbeat for " +
                            core::FormatDuration(std::chrono::duration<double>(now - e.last_seen).count());
      spdlog::warn("node '{}' lost: {}", id, e.description.error);
    }
  }
}

core::Status NodeRegistry::Register(const dim::orchestrator::RegisterNodeRequest& request) {
  DIM_RETURN_IF_ERROR(CheckReport(request));
  const std::string& id = request.node_id();
  DIM_RETURN_IF_ERROR(CheckAddress(id, request.address()));
  DIM_RETURN_IF_ERROR(
      CheckCount(id, "max_concurrent_jobs", request.max_concurrent_jobs(), kMaxSlots));
  if (request.max_concurrent_jobs() < 1)
    return Invalid(id, "max_concurrent_jobs must be at least 1");
  DIM_RETURN_IF_ERROR(CheckCount(id, "the number of labels", request.labels_size(), kMaxLabels));
  for (const auto& [key, value] : request.labels()) {
    if (key.empty() || key.size() > kMaxNameBytes || value.size() > kMaxNameBytes) {
      return Invalid(id, "a label needs a key of 1 to " + std::to_string(kMaxNameBytes) +
                             " bytes and a value of at most as many");
    }
  }
  std::lock_guard lock(mu_);
  auto it = nodes_.find(id);
  if (it != nodes_.end() && it->second.description.source == "static") {
    return core::Status(core::StatusCode::kAlreadyExists,
                        "node '" + id + "' is configured statically with --node");
  }
  if (it != nodes_.end() && it->second.description.active &&
      it->second.description.address != request.address()) {
    // A live node keeps its id: a second daemon (or anyone) claiming it from elsewhere would
    // otherwise receive every later task of the first. The same address is the same daemon
    // registering again (it restarted).
    const auto silent = std::chrono::steady_clock::now() - it->second.last_seen;
    return core::Status(
        core::StatusCode::kAlreadyExists,
        "node '" + id + "' is already registered from " + it->second.description.address +
            " and active (heard from " +
            core::FormatDuration(std::chrono::duration<double>(silent).count()) +
            " ago); stop that daemon, or register from its address, or wait until it has been "
            "silent for " +
            core::FormatDuration(
                std::chrono::duration<double>(options_.heartbeat_timeout).count()));
  }
  const bool known = it != nodes_.end();
  const bool was_active = known && it->second.description.active;
  Entry& e = nodes_[id];
  auto& d = e.description;
  if (!was_active) {
    spdlog::info("node '{}' {} from {}", id, known ? "registered again" : "registered",
                 request.address());
  }
  if (!e.client || d.address != request.address()) Connect(e, request.node_id(), request.address());
  d.id = request.node_id();
  d.address = request.address();
  d.source = "registered";
  RecordReport(request, clock_, d, e.last_seen);
  d.described = true;
  d.max_concurrent_jobs = request.max_concurrent_jobs();
  d.can_get_model = request.fetches_models() ? options_.model_in_store : nullptr;
  d.labels = LabelsFromProto(request.labels());
  return core::Status::Ok();
}

core::Result<bool> NodeRegistry::Heartbeat(const dim::orchestrator::HeartbeatRequest& request) {
  DIM_RETURN_IF_ERROR(CheckReport(request));
  DIM_RETURN_IF_ERROR(
      CheckCount(request.node_id(), "active_jobs", request.active_jobs(), kMaxSlots));
  DIM_RETURN_IF_ERROR(
      CheckCount(request.node_id(), "queued_jobs", request.queued_jobs(), kMaxSlots));
  std::lock_guard lock(mu_);
  auto it = nodes_.find(request.node_id());
  if (it == nodes_.end() || it->second.description.source != "registered") return false;
  auto& d = it->second.description;
  if (!d.active) spdlog::info("node '{}' is back (heartbeat)", request.node_id());
  RecordReport(request, clock_, d, it->second.last_seen);
  d.active_jobs = request.active_jobs();
  d.queued_jobs = request.queued_jobs();
  return true;
}

bool NodeRegistry::Deregister(const std::string& node_id, const std::string& address) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end() || it->second.description.source != "registered" ||
      it->second.description.address != address) {
    return false;
  }
  if (it->second.description.active) spdlog::info("node '{}' deregistered: it stopped", node_id);
  it->second.description.active = false;
  it->second.description.error = "stopped (the daemon deregistered)";
  return true;
}

core::Result<std::shared_ptr<core::NodeClient>> NodeRegistry::Client(const std::string& node_id) {
  bool check_static = false;
  {
    std::lock_guard lock(mu_);
    auto it = nodes_.find(node_id);
    if (it == nodes_.end()) return core::Status::NotFound("node '" + node_id + "' not found");
    const auto& d = it->second.description;
    if (d.active) return it->second.client;
    if (d.source != "static") return Inactive(d);
    check_static = true;
  }
  if (check_static) PollStaticNode(node_id);
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return core::Status::NotFound("node '" + node_id + "' not found");
  if (!it->second.description.active) return Inactive(it->second.description);
  return it->second.client;
}

core::Status NodeRegistry::Inactive(const core::NodeDescription& d) {
  return core::Status::Unavailable("node '" + d.id + "' is inactive" +
                                   (d.error.empty() ? std::string() : ": " + d.error));
}

void NodeRegistry::RecordTaskOutcome(const std::string& node_id, const core::Status& status) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return;
  auto& d = it->second.description;
  d.reputation = core::NextReputation(d.reputation, status);
  if (status.ok()) {
    ++d.tasks_succeeded;
  } else if (core::CountsAgainstNode(status)) {
    ++d.tasks_failed;
  }
}

std::vector<core::NodeDescription> NodeRegistry::Describe() {
  std::lock_guard lock(mu_);
  std::vector<core::NodeDescription> out;
  for (const auto& [id, e] : nodes_) out.push_back(e.description);
  return out;
}

}  // namespace dim::net
