// A node reached over gRPC: runs node tasks through the daemon protocol.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "core/node/node_client.h"
#include "daemon.grpc.pb.h"

namespace dim::net {

// Thread-safe (the stub is).
class GrpcNode final : public core::NodeClient {
 public:
  GrpcNode(std::string node_id, std::string address, std::shared_ptr<grpc::Channel> channel);

  // SubmitJob, then GetJobStatus until the task ends; CancelJob when `cancel` is raised or
  // the time limit passes. A node that stays unreachable for kLostAfter is UNAVAILABLE.
  core::Result<nlohmann::json> RunTask(const core::NodeTask& task, const core::CancelToken& cancel,
                                       std::chrono::milliseconds timeout) override;

  static constexpr std::chrono::seconds kLostAfter{5};

 private:
  void CancelOnNode(const std::string& job_id);
  core::Status Unreachable(const grpc::Status& status) const;

  std::string node_id_;
  std::string address_;
  std::unique_ptr<dim::daemon::Daemon::Stub> stub_;
};

}  // namespace dim::net
