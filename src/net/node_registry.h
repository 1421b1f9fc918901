// The orchestrator's nodes: static ones (--node ID=ADDR), checked by polling, and daemons
// that register and heartbeat. Implements core::NodeDirectory for the job engine.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/node/node_client.h"
#include "orchestrator.pb.h"

namespace dim::net {

struct NodeRegistryOptions {
  // A registered node not heard from for this long becomes inactive.
  std::chrono::milliseconds heartbeat_timeout{15000};
  // How often static nodes are asked to describe themselves.
  std::chrono::milliseconds poll_interval{5000};
  // Interval the daemons are told to heartbeat at.
  std::chrono::milliseconds heartbeat_interval{2000};
};

// Thread-safe.
class NodeRegistry final : public core::NodeDirectory {
 public:
  NodeRegistry(const core::Clock& clock, NodeRegistryOptions options);
  ~NodeRegistry() override;

  // INVALID_ARGUMENT for a duplicate id or an empty address.
  [[nodiscard]] core::Status AddStatic(const std::string& id, const std::string& address);
  // Polls static nodes once now (so a fresh orchestrator knows them), then in the background.
  void Start();
  void Stop();

  core::Status Register(const dim::orchestrator::RegisterNodeRequest& request);
  // False when the node is unknown (it must register again).
  bool Heartbeat(const dim::orchestrator::HeartbeatRequest& request);
  std::chrono::milliseconds heartbeat_interval() const { return options_.heartbeat_interval; }

  core::Result<std::shared_ptr<core::NodeClient>> Client(const std::string& node_id) override;
  std::vector<core::NodeDescription> Describe() override;

 private:
  struct Entry {
    core::NodeDescription description;
    std::chrono::steady_clock::time_point last_seen{};
    std::shared_ptr<core::NodeClient> client;
  };
  void PollStaticNodes();
  void ExpireSilentNodes();
  std::shared_ptr<core::NodeClient> MakeClient(const std::string& id, const std::string& address);

  const core::Clock& clock_;
  NodeRegistryOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, Entry> nodes_;
  std::thread poller_;
};

}  // namespace dim::net
