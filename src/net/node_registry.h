// The orchestrator's nodes: static ones (--node ID=ADDR), checked by polling, and daemons
// that register and heartbeat. Implements core::NodeDirectory for the job engine.
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/node/node_client.h"
#include "net/security.h"
#include "orchestrator.pb.h"

namespace dim::net {

struct NodeRegistryOptions {
  // A registered node not heard from for this long becomes inactive.
  std::chrono::milliseconds heartbeat_timeout{15000};
  // How often static nodes are asked to describe themselves.
  std::chrono::milliseconds poll_interval{5000};
  // Interval the daemons are told to heartbeat at (at most a third of heartbeat_timeout).
  std::chrono::milliseconds heartbeat_interval{2000};
  // Whether the orchestrator's model store has a model (a name or sha256:<hex>). A daemon
  // that registers with fetches_models, or a static one whose DescribeNode says it fetches
  // models, may be given any such model. Empty: no store.
  std::function<bool(const std::string&)> model_in_store;
  // How the orchestrator dials the daemons: TLS (verifying them, presenting its own
  // certificate) and the node token.
  ClientSecurity client;
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

  // Checks what the node reports of itself before anything is recorded (INVALID_ARGUMENT
  // naming the field: a bad id or address, negative counts, too many datasets, models or
  // labels). ALREADY_EXISTS for a static node's id, and for the id of a registered node that
  // is still active at another address: a live node is never replaced.
  core::Status Register(const dim::orchestrator::RegisterNodeRequest& request);
  // False when the node is unknown (it must register again); INVALID_ARGUMENT as Register.
  core::Result<bool> Heartbeat(const dim::orchestrator::HeartbeatRequest& request);
  // A registered node at `address` that stops: inactive at once ("stopped"), its reputation
  // untouched. False when no such node is registered.
  bool Deregister(const std::string& node_id, const std::string& address);
  std::chrono::milliseconds heartbeat_interval() const { return options_.heartbeat_interval; }

  // NOT_FOUND for an unknown node; UNAVAILABLE for an inactive one (it gets no new tasks),
  // except that an inactive static node is asked once, then and there, whether it is back.
  core::Result<std::shared_ptr<core::NodeClient>> Client(const std::string& node_id) override;
  std::vector<core::NodeDescription> Describe() override;
  void RecordTaskOutcome(const std::string& node_id, const core::Status& status) override;

 private:
  struct Entry {
    core::NodeDescription description;
    std::chrono::steady_clock::time_point last_seen{};
    std::shared_ptr<grpc::Channel> channel;
    std::shared_ptr<core::NodeClient> client;
  };
  // A channel to the node and a client on it.
  void Connect(Entry& e, const std::string& id, const std::string& address) const;
  static core::Status Inactive(const core::NodeDescription& d);
  void PollStaticNodes();
  // Asks one static node to describe itself and records the answer.
  void PollStaticNode(const std::string& id);
  void ExpireSilentNodes();

  const core::Clock& clock_;
  NodeRegistryOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::map<std::string, Entry> nodes_;
  std::thread poller_;
};

}  // namespace dim::net
