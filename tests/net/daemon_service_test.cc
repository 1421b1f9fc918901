// The Daemon service's GetJobStatus and SubmitJob over a real gRPC connection: wait_ms makes
// them a long poll that answers when the task ends, when the wait passes, or before the
// caller's deadline; and GrpcNode, the orchestrator's side of it.
#include "net/daemon_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "core/clock.h"
#include "net/grpc_node.h"
#include "net/server_runner.h"
#include "tests/core/node/slow_dataset.h"
#include "tests/core/test_support.h"

namespace dim::net {
namespace {

namespace fs = std::filesystem;
namespace pb = dim::daemon;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

using dim::testing::ExampleDataFile;
using dim::testing::ExampleModelExists;
using dim::testing::ExampleModelsDir;

// A daemon on a loopback port. Dataset "slow" is a named pipe: a task that reads it blocks
// in open() until Release(), so the task stays running for as long as a test needs.
class DaemonServiceTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ExampleModelExists("heart_mlp"));
    ASSERT_TRUE(datasets_.Add("a", ExampleDataFile("hospital_a.csv")).ok());
    slow_.Create(datasets_, "slow", dir_ / "slow.csv");
    tasks_ = std::make_unique<core::TaskQueue>(
        models_, datasets_, clock_,
        core::TaskQueueOptions{.max_concurrent = 1, .policy = {.min_samples = 0}});
    service_ = std::make_unique<DaemonService>("n1", models_, datasets_, *tasks_, 1);
    auto server = StartServer("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    stub_ = pb::Daemon::NewStub(
        grpc::CreateChannel(server_.address, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_.server) server_.server->Shutdown(std::chrono::system_clock::now() + 5s);
    // Destroy the queue while letting any task still blocked on the pipe go.
    slow_.ReleaseWhile([&] { tasks_.reset(); });
  }

  bool ReleaseIfWaiting() { return slow_.ReleaseIfWaiting(); }

  grpc::Status SubmitWaiting(const std::string& id, const std::string& dataset, int wait_ms,
                             pb::SubmitJobResponse* resp, const std::string& model = "heart_mlp") {
    pb::SubmitJobRequest req;
    req.set_job_id(id);
    req.set_model_id(model);
    req.set_data_source(dataset);
    req.set_wait_ms(wait_ms);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    return stub_->SubmitJob(&ctx, req, resp);
  }

  void Submit(const std::string& id, const std::string& dataset) {
    pb::SubmitJobResponse resp;
    grpc::Status s = SubmitWaiting(id, dataset, 0, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(resp.status(), "queued");
    EXPECT_FALSE(resp.has_task());  // as older clients see it
  }

  GrpcNode Node() {
    return GrpcNode("n1", server_.address,
                    grpc::CreateChannel(server_.address, grpc::InsecureChannelCredentials()));
  }

  static core::NodeTask Task(const std::string& id, const std::string& dataset) {
    core::NodeTask task;
    task.job_id = id;
    task.model_id = "heart_mlp";
    task.dataset = dataset;
    return task;
  }

  grpc::Status Status(const std::string& id, int wait_ms, pb::JobStatusResponse* resp,
                      std::chrono::milliseconds deadline = 10s) {
    pb::GetJobStatusRequest req;
    req.set_job_id(id);
    req.set_wait_ms(wait_ms);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    return stub_->GetJobStatus(&ctx, req, resp);
  }

  void WaitRunning(const std::string& id) {
    const auto give_up = steady_clock::now() + 10s;
    for (;;) {
      auto view = tasks_->Get(id);
      ASSERT_TRUE(view.ok());
      if (view->state == core::TaskState::kRunning) return;
      ASSERT_LT(steady_clock::now(), give_up) << id << " is " << view->state;
      std::this_thread::sleep_for(1ms);
    }
  }

  dim::testing::SlowDataset slow_;
  core::SystemClock clock_;
  core::ModelRepository models_{ExampleModelsDir()};
  core::DatasetCatalog datasets_;
  std::unique_ptr<core::TaskQueue> tasks_;
  std::unique_ptr<DaemonService> service_;
  RunningServer server_;
  std::unique_ptr<pb::Daemon::Stub> stub_;
};

TEST_F(DaemonServiceTest, WaitMsAnswersWhenTheTaskEnds) {
  Submit("t1", "slow");
  WaitRunning("t1");
  std::thread release([&] {
    std::this_thread::sleep_for(100ms);
    while (!ReleaseIfWaiting()) {
    }
  });
  const auto asked = steady_clock::now();
  pb::JobStatusResponse resp;
  grpc::Status s = Status("t1", 5000, &resp);
  const auto took = steady_clock::now() - asked;
  release.join();
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.job_id(), "t1");
  EXPECT_EQ(resp.status(), "completed") << resp.error();
  EXPECT_FALSE(resp.result_json().empty());
  EXPECT_FALSE(resp.execution_time().empty());
  EXPECT_GE(took, 90ms);
  EXPECT_LT(took, 4s);
}

TEST_F(DaemonServiceTest, WaitMsAnswersWithTheRunningTaskWhenItPasses) {
  Submit("t1", "slow");
  WaitRunning("t1");
  pb::JobStatusResponse resp;
  auto asked = steady_clock::now();
  ASSERT_TRUE(Status("t1", 0, &resp).ok());  // as older clients ask: at once
  EXPECT_EQ(resp.status(), "running");
  EXPECT_LT(steady_clock::now() - asked, 2s);

  asked = steady_clock::now();
  grpc::Status s = Status("t1", 150, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.status(), "running");
  EXPECT_GE(steady_clock::now() - asked, 140ms);

  // A wait past the caller's deadline is cut to answer before it.
  s = Status("t1", 60'000, &resp, 300ms);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.status(), "running");
}

TEST_F(DaemonServiceTest, WaitMsOnAnEndedOrUnknownTaskAnswersAtOnce) {
  Submit("done", "a");
  pb::JobStatusResponse resp;
  ASSERT_TRUE(Status("done", 10'000, &resp).ok());
  EXPECT_EQ(resp.status(), "completed") << resp.error();
  const auto asked = steady_clock::now();
  ASSERT_TRUE(Status("done", 10'000, &resp).ok());
  EXPECT_LT(steady_clock::now() - asked, 2s);
  EXPECT_EQ(Status("nope", 10'000, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(DaemonServiceTest, ACancelledLongPollEndsAndTheDaemonGoesOn) {
  Submit("t1", "slow");
  WaitRunning("t1");
  pb::GetJobStatusRequest req;
  req.set_job_id("t1");
  req.set_wait_ms(30'000);
  pb::JobStatusResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 60s);
  std::thread cancel([&] {
    std::this_thread::sleep_for(100ms);
    ctx.TryCancel();
  });
  const auto asked = steady_clock::now();
  grpc::Status s = stub_->GetJobStatus(&ctx, req, &resp);
  cancel.join();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_LT(steady_clock::now() - asked, 10s);

  // The waiter left behind is answered when the task ends; the daemon still serves.
  while (!ReleaseIfWaiting()) {
  }
  ASSERT_TRUE(Status("t1", 5000, &resp).ok());
  EXPECT_EQ(resp.status(), "completed") << resp.error();
}

TEST_F(DaemonServiceTest, SubmitWithWaitMsAnswersWithTheEndedTask) {
  pb::SubmitJobResponse resp;
  grpc::Status s = SubmitWaiting("quick", "a", 5000, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.status(), "queued");
  ASSERT_TRUE(resp.has_task());
  EXPECT_EQ(resp.task().job_id(), "quick");
  EXPECT_EQ(resp.task().status(), "completed") << resp.task().error();
  EXPECT_NE(resp.task().result_json().find("\"rows\""), std::string::npos);
}

TEST_F(DaemonServiceTest, SubmitWithWaitMsAnswersWithTheRunningTaskWhenItPasses) {
  pb::SubmitJobResponse resp;
  const auto asked = steady_clock::now();
  grpc::Status s = SubmitWaiting("t1", "slow", 150, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GE(steady_clock::now() - asked, 140ms);
  ASSERT_TRUE(resp.has_task());
  EXPECT_EQ(resp.task().status(), "running");
  while (!ReleaseIfWaiting()) {
  }
  pb::JobStatusResponse status;
  ASSERT_TRUE(Status("t1", 5000, &status).ok());
  EXPECT_EQ(status.status(), "completed") << status.error();
}

TEST_F(DaemonServiceTest, ARefusedSubmitWithWaitMsAnswersAtOnce) {
  pb::SubmitJobResponse resp;
  const auto asked = steady_clock::now();
  grpc::Status s = SubmitWaiting("bad", "a", 60'000, &resp, "no_such_model");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_LT(steady_clock::now() - asked, 5s);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("no_such_model"));
}

TEST_F(DaemonServiceTest, GrpcNodeRunsAQuickTaskToItsResult) {
  GrpcNode node = Node();
  core::CancelToken cancel;
  auto result = node.RunTask(Task("quick", "a"), cancel, 10s);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_TRUE(std::holds_alternative<core::Summary>(*result));
  EXPECT_EQ(core::ResultRows(*result), 240);
}

// A step's rows as a tensor (what dim sends) and as JSON (what an older orchestrator sends)
// give the same output rows, each back the way it came.
TEST_F(DaemonServiceTest, AStepGivesTheSameRowsAsATensorAndAsJson) {
  GrpcNode node = Node();
  core::CancelToken cancel;
  core::NodeTask task = Task("rows", "");
  task.kind = core::NodeTaskKind::kStep;
  core::Matrix rows(3, 8);
  rows << 50, 25, 120, 80, 200, 100, 70, 0,  //
      63, 31.5f, 150, 95, 260, 140, 88, 1,   //
      35, 21, 110, 70, 180, 90, 60, 0;
  task.input_rows = rows;
  auto binary = node.RunTask(task, cancel, 10s);
  ASSERT_TRUE(binary.ok()) << binary.status().ToString();
  task.job_id = "rows-json";
  task.rows_as_json = true;
  auto text = node.RunTask(task, cancel, 10s);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const auto& a = std::get<core::StepOutput>(*binary);
  const auto& b = std::get<core::StepOutput>(*text);
  ASSERT_TRUE(a.rows && b.rows);
  EXPECT_EQ(a.rows->rows(), 3);
  EXPECT_EQ(a.rows->cols(), 3);
  EXPECT_EQ(*a.rows, *b.rows);
  // The JSON task's rows came back inside result_json, the tensor task's beside it.
  pb::JobStatusResponse json_status;
  ASSERT_TRUE(Status("rows-json", 0, &json_status).ok());
  EXPECT_NE(json_status.result_json().find("output_rows"), std::string::npos);
  EXPECT_FALSE(json_status.has_output_rows());
  pb::JobStatusResponse tensor_status;
  ASSERT_TRUE(Status("rows", 0, &tensor_status).ok());
  EXPECT_EQ(tensor_status.result_json().find("output_rows"), std::string::npos);
  EXPECT_EQ(tensor_status.output_rows().shape_size(), 2);
  EXPECT_EQ(tensor_status.output_rows().data().size(), size_t{3 * 3 * 4});
}

TEST_F(DaemonServiceTest, AMalformedTensorIsRefusedNamingTheField) {
  pb::SubmitJobRequest req;
  req.set_job_id("bad-rows");
  req.set_model_id("heart_mlp");
  req.set_input_data_json(R"({"kind":"step"})");
  auto* t = req.mutable_input_rows();
  t->set_dtype("float32");
  t->add_shape(2);
  t->add_shape(8);
  t->set_data(std::string(60, '\0'));  // 64 expected
  pb::SubmitJobResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 10s);
  grpc::Status s = stub_->SubmitJob(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("input_rows.data: 60 bytes"));
}

TEST_F(DaemonServiceTest, GrpcNodeFollowsATaskLongerThanOneWait) {
  GrpcNode node = Node();
  core::CancelToken cancel;
  std::thread release([&] {
    std::this_thread::sleep_for(GrpcNode::kStatusWait * 2);
    while (!ReleaseIfWaiting()) {
    }
  });
  auto result = node.RunTask(Task("t1", "slow"), cancel, 10s);
  release.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(std::holds_alternative<core::Summary>(*result));
}

TEST_F(DaemonServiceTest, GrpcNodeStopsATaskPastItsTimeLimitOrCancelled) {
  GrpcNode node = Node();
  core::CancelToken never;
  const auto asked = steady_clock::now();
  auto late = node.RunTask(Task("late", "slow"), never, 300ms);
  EXPECT_EQ(late.status().code(), core::StatusCode::kDeadlineExceeded) << late.status().ToString();
  EXPECT_LT(steady_clock::now() - asked, 3s);

  core::CancelToken cancel;
  std::thread stop([&] {
    std::this_thread::sleep_for(100ms);
    cancel.Cancel();
  });
  auto cancelled = node.RunTask(Task("stopped", "slow"), cancel, 10s);
  stop.join();
  EXPECT_EQ(cancelled.status().code(), core::StatusCode::kCancelled);
}

}  // namespace
}  // namespace dim::net
