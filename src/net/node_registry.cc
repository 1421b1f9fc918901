#include "net/node_registry.h"

#include <grpcpp/grpcpp.h>

#include "daemon.grpc.pb.h"
#include "net/grpc_node.h"
#include "net/grpc_status.h"
#include "net/node_convert.h"

namespace dim::net {
NodeRegistry::NodeRegistry(const core::Clock& clock, NodeRegistryOptions options)
    : clock_(clock), options_(options) {}

NodeRegistry::~NodeRegistry() { Stop(); }

std::shared_ptr<core::NodeClient> NodeRegistry::MakeClient(const std::string& id,
                                                           const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  return std::make_shared<GrpcNode>(id, address, std::move(channel));
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
  e.client = MakeClient(id, address);
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
  for (const auto& [id, address] : targets) {
    auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto stub = dim::daemon::Daemon::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    dim::daemon::DescribeNodeResponse resp;
    grpc::Status s = stub->DescribeNode(&ctx, dim::daemon::DescribeNodeRequest{}, &resp);
    std::lock_guard lock(mu_);
    auto it = nodes_.find(id);
    if (it == nodes_.end()) continue;
    auto& d = it->second.description;
    if (s.ok()) {
      d.active = true;
      d.described = true;
      d.error.clear();
      d.datasets = DatasetsFromProto(resp.datasets());
      d.models.assign(resp.models().begin(), resp.models().end());
      d.max_concurrent_jobs = resp.max_concurrent_jobs();
      d.last_seen = core::FormatIso8601(clock_.Now());
      it->second.last_seen = std::chrono::steady_clock::now();
    } else {
      d.active = false;
      d.error = s.error_message();
    }
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
    }
  }
}

core::Status NodeRegistry::Register(const dim::orchestrator::RegisterNodeRequest& request) {
  if (request.node_id().empty()) return core::Status::InvalidArgument("node_id: must not be empty");
  if (request.address().empty()) return core::Status::InvalidArgument("address: must not be empty");
  std::lock_guard lock(mu_);
  auto it = nodes_.find(request.node_id());
  if (it != nodes_.end() && it->second.description.source == "static") {
    return core::Status(core::StatusCode::kAlreadyExists,
                        "node '" + request.node_id() + "' is configured statically with --node");
  }
  Entry& e = nodes_[request.node_id()];
  auto& d = e.description;
  if (!e.client || d.address != request.address()) {
    e.client = MakeClient(request.node_id(), request.address());
  }
  d.id = request.node_id();
  d.address = request.address();
  d.source = "registered";
  d.active = true;
  d.described = true;
  d.error.clear();
  d.datasets = DatasetsFromProto(request.datasets());
  d.models.assign(request.models().begin(), request.models().end());
  d.max_concurrent_jobs = request.max_concurrent_jobs();
  d.last_seen = core::FormatIso8601(clock_.Now());
  e.last_seen = std::chrono::steady_clock::now();
  return core::Status::Ok();
}

bool NodeRegistry::Heartbeat(const dim::orchestrator::HeartbeatRequest& request) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(request.node_id());
  if (it == nodes_.end() || it->second.description.source != "registered") return false;
  auto& d = it->second.description;
  d.active = true;
  d.error.clear();
  d.active_jobs = request.active_jobs();
  d.queued_jobs = request.queued_jobs();
  d.datasets = DatasetsFromProto(request.datasets());
  d.models.assign(request.models().begin(), request.models().end());
  d.last_seen = core::FormatIso8601(clock_.Now());
  it->second.last_seen = std::chrono::steady_clock::now();
  return true;
}

core::Result<std::shared_ptr<core::NodeClient>> NodeRegistry::Client(const std::string& node_id) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return core::Status::NotFound("node '" + node_id + "' not found");
  return it->second.client;
}

std::vector<core::NodeDescription> NodeRegistry::Describe() {
  std::lock_guard lock(mu_);
  std::vector<core::NodeDescription> out;
  for (const auto& [id, e] : nodes_) out.push_back(e.description);
  return out;
}

}  // namespace dim::net
