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
  // A node that stays unreachable for `lost_after` while it runs a task has lost it.
  // `authorization`: the "authorization" metadata of every call ("" : none).
  GrpcNode(std::string node_id, std::string address, std::shared_ptr<grpc::Channel> channel,
           std::chrono::milliseconds lost_after = kLostAfter, std::string authorization = {});

  // SubmitJob with wait_ms (the daemon answers when the task ends, or after kStatusWait),
  // then GetJobStatus with wait_ms until the task ends; CancelJob when `cancel` is raised
  // (seen within kStatusWait) or the time limit passes. A daemon that answers at once (one
  // without wait_ms) is polled with a backoff of 1 to 50 ms. A node that stays unreachable
  // for lost_after is UNAVAILABLE. The calls are gRPC's callback API: no thread waits on
  // them, and `done` runs on a gRPC thread (a large result is read on a thread of its
  // own). A result that is malformed or not of the task's kind is INTERNAL ("node 'a' sent
  // a malformed summary: ..."). Always returns true. The task may outlive this object.
  // SubmitJob with dry_run: one call, within kRpcDeadline.
  core::Result<core::DryRunVerdict> DryRun(const core::NodeTask& task) override;
  bool StartTask(const core::NodeTask& task, const core::CancelToken& cancel,
                 std::chrono::milliseconds timeout, TaskDone& done) override;
  // StartTask, waiting for its end on the calling thread.
  core::Result<core::TaskResult> RunTask(const core::NodeTask& task,
                                         const core::CancelToken& cancel,
                                         std::chrono::milliseconds timeout) override;

  static constexpr std::chrono::milliseconds kLostAfter{5000};
  // The longest one GetJobStatus waits on the daemon: bounds how late a cancel is seen.
  static constexpr std::chrono::milliseconds kStatusWait{200};

 private:
  class TaskCalls;

  std::string node_id_;
  std::string address_;
  std::chrono::milliseconds lost_after_;
  std::string authorization_;
  std::shared_ptr<dim::daemon::Daemon::Stub> stub_;
};

}  // namespace dim::net
