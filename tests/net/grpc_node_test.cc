// GrpcNode against a scripted Daemon service on a loopback port: a daemon that does not
// know wait_ms (answers at once, so the node polls it with a backoff), results large enough
// to be parsed off gRPC's threads, malformed results, cancellation, and a task that outlives
// its GrpcNode. The real daemon's side is in daemon_service_test.cc.
#include "net/grpc_node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "net/server_runner.h"

namespace dim::net {
namespace {

namespace pb = dim::daemon;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// Answers SubmitJob at once without the task's status (as daemons before wait_ms did), then
// GetJobStatus at once: "running" for the first `running_polls` calls, then `end`.
class ScriptedDaemon final : public pb::Daemon::CallbackService {
 public:
  int running_polls = 3;
  pb::JobStatusResponse running;  // what a "running" answer carries besides its status
  pb::JobStatusResponse end;
  std::atomic<int> polls{0};
  std::atomic<int> cancels{0};

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* ctx,
                                      const pb::SubmitJobRequest* req,
                                      pb::SubmitJobResponse* resp) override {
    resp->set_job_id(req->job_id());
    resp->set_status("queued");
    return Finish(ctx);
  }
  grpc::ServerUnaryReactor* GetJobStatus(grpc::CallbackServerContext* ctx,
                                         const pb::GetJobStatusRequest* req,
                                         pb::JobStatusResponse* resp) override {
    if (polls.fetch_add(1) < running_polls) {
      *resp = running;
      resp->set_status("running");
    } else {
      *resp = end;
    }
    resp->set_job_id(req->job_id());
    return Finish(ctx);
  }
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext* ctx, const pb::CancelJobRequest*,
                                      pb::CancelJobResponse* resp) override {
    ++cancels;
    resp->set_success(true);
    return Finish(ctx);
  }

 private:
  static grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* ctx) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class GrpcNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_.end.set_status("completed");
    daemon_.end.set_result_json(R"({"rows": 16})");
    auto server = StartServer("127.0.0.1:0", {&daemon_});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
  }
  void TearDown() override {
    if (server_.server) server_.server->Shutdown(std::chrono::system_clock::now() + 5s);
  }

  std::unique_ptr<GrpcNode> Node() {
    return std::make_unique<GrpcNode>(
        "n1", server_.address,
        grpc::CreateChannel(server_.address, grpc::InsecureChannelCredentials()));
  }
  static core::NodeTask Task(const std::string& id) {
    core::NodeTask task;
    task.job_id = id;
    task.model_id = "m";
    return task;
  }

  ScriptedDaemon daemon_;
  RunningServer server_;
};

TEST_F(GrpcNodeTest, PollsADaemonThatAnswersAtOnceUntilTheTaskEnds) {
  auto node = Node();
  core::CancelToken cancel;
  auto result = node->RunTask(Task("t1"), cancel, 10s);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)["rows"], 16);
  EXPECT_EQ(daemon_.polls.load(), 4);  // three "running", then the end
}

// A node's progress reaches the task's token, clamped: a node that claims more rows done than
// it has, or fewer than none, or a negative total, is not believed.
TEST_F(GrpcNodeTest, ANodesProgressReachesTheTokenWithinItsOwnTotal) {
  auto node = Node();
  for (const auto& [done, total, want_done, want_total] : std::vector<std::array<int64_t, 4>>{
           {40, 100, 40, 100}, {500, 100, 100, 100}, {-5, 100, 0, 100}, {7, -3, 0, 0}}) {
    daemon_.polls = 0;
    daemon_.running.set_rows_done(done);
    daemon_.running.set_rows_total(total);
    core::CancelToken cancel;
    auto result = node->RunTask(Task("p" + std::to_string(done)), cancel, 10s);
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(cancel.rows_done(), want_done) << done << "/" << total;
    EXPECT_EQ(cancel.rows_total(), want_total) << done << "/" << total;
  }
}

TEST_F(GrpcNodeTest, ParsesALargeResultAndRejectsAMalformedOne) {
  daemon_.running_polls = 0;
  std::string big = R"({"rows": 1, "pad": ")" + std::string(1 << 20, 'x') + "\"}";
  daemon_.end.set_result_json(big);
  auto node = Node();
  core::CancelToken cancel;
  auto result = node->RunTask(Task("big"), cancel, 10s);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)["pad"].get<std::string>().size(), size_t{1} << 20);

  daemon_.end.set_result_json(std::string(1 << 20, '['));
  auto malformed = node->RunTask(Task("bad-big"), cancel, 10s);
  EXPECT_EQ(malformed.status().code(), core::StatusCode::kInternal);
  daemon_.end.set_result_json("[1, 2]");
  malformed = node->RunTask(Task("bad"), cancel, 10s);
  EXPECT_EQ(malformed.status().code(), core::StatusCode::kInternal);
  EXPECT_THAT(malformed.status().message(), HasSubstr("malformed result"));
}

TEST_F(GrpcNodeTest, ACancelledTaskIsCancelledOnTheNodeBeforeItEnds) {
  daemon_.running_polls = 1 << 30;
  auto node = Node();
  core::CancelToken cancel;
  std::thread stop([&] {
    std::this_thread::sleep_for(50ms);
    cancel.Cancel();
  });
  auto result = node->RunTask(Task("stopped"), cancel, 10s);
  stop.join();
  EXPECT_EQ(result.status().code(), core::StatusCode::kCancelled);
  EXPECT_EQ(daemon_.cancels.load(), 1);  // told before the end was reported
}

TEST_F(GrpcNodeTest, AStartedTaskOutlivesItsNode) {
  auto node = Node();
  core::CancelToken cancel;
  std::mutex mu;
  std::condition_variable cv;
  std::optional<core::Result<nlohmann::json>> end;
  core::NodeClient::TaskDone done = [&](core::Result<nlohmann::json> result) {
    std::lock_guard lock(mu);
    end = std::move(result);
    cv.notify_one();
  };
  ASSERT_TRUE(node->StartTask(Task("orphan"), cancel, 10s, done));
  node.reset();
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return end.has_value(); }));
  ASSERT_TRUE(end->ok()) << end->status().ToString();
  EXPECT_EQ((**end)["rows"], 16);
}

TEST_F(GrpcNodeTest, AnUnreachableNodeIsUnavailable) {
  const std::string address = server_.address;
  server_.server->Shutdown(std::chrono::system_clock::now());
  server_.server.reset();
  GrpcNode node("gone", address, grpc::CreateChannel(address, grpc::InsecureChannelCredentials()),
                200ms);
  core::CancelToken cancel;
  auto result = node.RunTask(Task("t"), cancel, 10s);
  EXPECT_EQ(result.status().code(), core::StatusCode::kUnavailable);
  EXPECT_THAT(result.status().message(), HasSubstr("node 'gone' at " + address));
}

}  // namespace
}  // namespace dim::net
