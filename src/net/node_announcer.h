// A daemon's side of registration: registers with the orchestrator, then heartbeats, and
// registers again whenever the orchestrator has forgotten it (e.g. after a restart).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "net/security.h"
#include "orchestrator.grpc.pb.h"

namespace dim::net {

class NodeAnnouncer final {
 public:
  // `describe` fills the registration (called before each attempt, so datasets and models
  // are current); `load` fills a heartbeat's active/queued counts.
  NodeAnnouncer(std::string orchestrator_address,
                std::function<void(dim::orchestrator::RegisterNodeRequest*)> describe,
                std::function<void(dim::orchestrator::HeartbeatRequest*)> load,
                ClientSecurity security = {});
  ~NodeAnnouncer();

  void Start();
  void Stop();

 private:
  void Loop();

  std::string address_;
  std::function<void(dim::orchestrator::RegisterNodeRequest*)> describe_;
  std::function<void(dim::orchestrator::HeartbeatRequest*)> load_;
  ClientSecurity security_;
  std::unique_ptr<dim::orchestrator::Orchestrator::Stub> stub_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool registered_ = false;  // written by the loop's thread, read by Stop after the join
  std::thread thread_;
};

}  // namespace dim::net
