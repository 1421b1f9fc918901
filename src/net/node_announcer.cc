#include "net/node_announcer.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include "net/grpc_status.h"

namespace dim::net {
namespace {

// Why a call to the orchestrator failed, in words: why it could not be reached, or its answer.
std::string WhyFailed(const grpc::Status& s, const ClientSecurity& security) {
  if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
      s.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
    return s.error_message();
  }
  const std::string hint = ConnectionHint(s, security);
  return "unreachable (" + (hint.empty() ? UnreachableReason(s.error_message()) : hint) + ")";
}

}  // namespace

NodeAnnouncer::NodeAnnouncer(std::string orchestrator_address,
                             std::function<void(dim::orchestrator::RegisterNodeRequest*)> describe,
                             std::function<void(dim::orchestrator::HeartbeatRequest*)> load,
                             ClientSecurity security)
    : address_(std::move(orchestrator_address)),
      describe_(std::move(describe)),
      load_(std::move(load)),
      security_(std::move(security)),
      stub_(dim::orchestrator::Orchestrator::NewStub(security_.Dial(address_))) {}

NodeAnnouncer::~NodeAnnouncer() { Stop(); }

void NodeAnnouncer::Start() { thread_ = std::thread([this] { Loop(); }); }

void NodeAnnouncer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!registered_) return;
  // Said once, briefly: a stopping daemon must not wait on an orchestrator that is gone.
  dim::orchestrator::RegisterNodeRequest me;
  describe_(&me);
  dim::orchestrator::DeregisterNodeRequest req;
  req.set_node_id(me.node_id());
  req.set_address(me.address());
  dim::orchestrator::DeregisterNodeResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  security_.Authorize(ctx);
  const grpc::Status s = stub_->DeregisterNode(&ctx, req, &resp);
  if (s.ok()) {
    spdlog::info("deregistered from orchestrator {}", address_);
  } else {
    spdlog::warn("could not deregister from orchestrator {}: {}", address_,
                 WhyFailed(s, security_));
  }
}

void NodeAnnouncer::Loop() {
  bool& registered = registered_;
  bool warned = false;
  std::string last_refusal;
  auto interval = std::chrono::milliseconds(2000);
  auto retry = std::chrono::milliseconds(200);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    security_.Authorize(ctx);
    if (!registered) {
      dim::orchestrator::RegisterNodeRequest req;
      describe_(&req);
      dim::orchestrator::RegisterNodeResponse resp;
      grpc::Status s = stub_->RegisterNode(&ctx, req, &resp);
      if (s.ok() && resp.accepted()) {
        registered = true;
        warned = false;
        last_refusal.clear();
        retry = std::chrono::milliseconds(200);
        if (resp.heartbeat_interval_ms() > 0) {
          interval = std::chrono::milliseconds(resp.heartbeat_interval_ms());
        }
        spdlog::info("registered with orchestrator {} as '{}'", address_, req.node_id());
      } else if (!warned || (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
                             s.error_message() != last_refusal)) {
        // Said once until it changes: a refused node retries every 2 s.
        spdlog::warn("cannot register with orchestrator {}: {}", address_, WhyFailed(s, security_));
        warned = true;
        last_refusal = s.error_message();
      }
    } else {
      dim::orchestrator::HeartbeatRequest req;
      load_(&req);
      dim::orchestrator::HeartbeatResponse resp;
      grpc::Status s = stub_->Heartbeat(&ctx, req, &resp);
      if (s.ok() && !resp.known()) {
        spdlog::info("orchestrator {} no longer knows this node; registering again", address_);
        registered = false;
      } else if (!s.ok() && !warned) {
        spdlog::warn("heartbeat to orchestrator {} failed: {}", address_, WhyFailed(s, security_));
        warned = true;
      } else if (s.ok()) {
        warned = false;
      }
    }
    lock.lock();
    if (stopping_) break;
    cv_.wait_for(lock, registered ? interval : retry);
    if (!registered) retry = std::min(retry * 2, std::chrono::milliseconds(2000));
  }
}

}  // namespace dim::net
