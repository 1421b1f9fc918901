// GrpcNode against a scripted Daemon service on a loopback port: a daemon that does not
// know wait_ms (answers at once, so the node polls it with a backoff), step rows sent and
// received as tensors, results large enough to be read off gRPC's threads, malformed
// results, cancellation, and a task that outlives
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

#include "core/stats/summary.h"
#include "net/server_runner.h"
#include "net/tensor_codec.h"

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
  pb::SubmitJobRequest last_submit;  // read once the task has ended

  grpc::ServerUnaryReactor* SubmitJob(grpc::CallbackServerContext* ctx,
                                      const pb::SubmitJobRequest* req,
                                      pb::SubmitJobResponse* resp) override {
    last_submit = *req;
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
    daemon_.end.set_result_json(SummaryText(16));
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
  static std::string SummaryText(int64_t rows) {
    core::Summary summary;
    summary.rows = rows;
    return core::SummaryToJson(summary).dump();
  }
  static int64_t Rows(const core::TaskResult& result) { return core::ResultRows(result); }

  ScriptedDaemon daemon_;
  RunningServer server_;
};

TEST_F(GrpcNodeTest, PollsADaemonThatAnswersAtOnceUntilTheTaskEnds) {
  auto node = Node();
  core::CancelToken cancel;
  auto result = node->RunTask(Task("t1"), cancel, 10s);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_TRUE(std::holds_alternative<core::Summary>(*result));
  EXPECT_EQ(Rows(*result), 16);
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

// A step's rows go as a tensor and come back as one; 70,000 x 4 floats (over 1 MB) are read
// off gRPC's threads.
TEST_F(GrpcNodeTest, StepRowsTravelAsTensorsAndALargeResultIsRead) {
  daemon_.running_polls = 0;
  core::Matrix rows(70'000, 4);
  for (int64_t r = 0; r < rows.rows(); ++r) {
    for (int64_t c = 0; c < rows.cols(); ++c) rows(r, c) = static_cast<float>(r * 4 + c) / 3;
  }
  core::NodeTask task = Task("big");
  task.kind = core::NodeTaskKind::kStep;
  task.input_rows = rows;
  const core::Matrix out = rows * 2;
  core::Summary summary;
  summary.rows = out.rows();
  daemon_.end.set_result_json(nlohmann::json{
      {"summary", core::SummaryToJson(summary)},
      {"output_shape",
       {70'000, 4}}}.dump());
  ToTensor(out, daemon_.end.mutable_output_rows());
  auto node = Node();
  core::CancelToken cancel;
  auto result = node->RunTask(task, cancel, 10s);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  // Sent as float32 bytes, not as JSON.
  EXPECT_EQ(daemon_.last_submit.input_rows().data().size(), size_t{70'000 * 4 * 4});
  EXPECT_EQ(daemon_.last_submit.input_data_json(), R"({"kind":"step"})");
  ASSERT_TRUE(std::holds_alternative<core::StepOutput>(*result));
  const auto& step = std::get<core::StepOutput>(*result);
  EXPECT_EQ(step.width, 4);
  ASSERT_TRUE(step.rows.has_value());
  EXPECT_EQ(*step.rows, out);

  // Rows missing, or not of the shape the node claimed, are the node's fault.
  daemon_.end.clear_output_rows();
  auto missing = node->RunTask(task, cancel, 10s);
  EXPECT_EQ(missing.status().code(), core::StatusCode::kInternal);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("node 'n1' sent a malformed step result: no output rows"));
  ToTensor(core::Matrix(out.topRows(10)), daemon_.end.mutable_output_rows());
  auto short_rows = node->RunTask(task, cancel, 10s);
  EXPECT_THAT(short_rows.status().message(), HasSubstr("output rows are not of output_shape"));
  daemon_.end.mutable_output_rows()->mutable_data()->resize(7);
  auto truncated = node->RunTask(task, cancel, 10s);
  EXPECT_THAT(truncated.status().message(), HasSubstr("output_rows.data: 7 bytes"));
}

TEST_F(GrpcNodeTest, AMalformedResultIsInternal) {
  daemon_.running_polls = 0;
  auto node = Node();
  core::CancelToken cancel;
  daemon_.end.set_result_json(std::string(1 << 20, '['));
  auto malformed = node->RunTask(Task("bad-big"), cancel, 10s);
  EXPECT_EQ(malformed.status().code(), core::StatusCode::kInternal);
  daemon_.end.set_result_json("[1, 2]");
  malformed = node->RunTask(Task("bad"), cancel, 10s);
  EXPECT_EQ(malformed.status().code(), core::StatusCode::kInternal);
  EXPECT_THAT(malformed.status().message(), HasSubstr("malformed summary"));
  daemon_.end.set_result_json(R"({"rows": -3})");
  malformed = node->RunTask(Task("negative"), cancel, 10s);
  EXPECT_THAT(malformed.status().message(), HasSubstr("malformed summary: $.rows"));
  // A vote from a node asked for a summary is not a summary.
  core::NodeTask vote = Task("vote");
  vote.kind = core::NodeTaskKind::kComparative;
  vote.model_ids = {"m", "m2"};
  daemon_.end.set_result_json(SummaryText(3));
  malformed = node->RunTask(vote, cancel, 10s);
  EXPECT_THAT(malformed.status().message(), HasSubstr("malformed vote"));
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
  std::optional<core::Result<core::TaskResult>> end;
  core::NodeClient::TaskDone done = [&](core::Result<core::TaskResult> result) {
    std::lock_guard lock(mu);
    end = std::move(result);
    cv.notify_one();
  };
  ASSERT_TRUE(node->StartTask(Task("orphan"), cancel, 10s, done));
  node.reset();
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return end.has_value(); }));
  ASSERT_TRUE(end->ok()) << end->status().ToString();
  EXPECT_EQ(Rows(**end), 16);
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
