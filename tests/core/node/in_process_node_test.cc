#include "core/node/in_process_node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <thread>

#include "tests/core/node/slow_dataset.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

using dim::testing::ExampleDataFile;
using dim::testing::ExampleModelsDir;

// A local node whose "slow" dataset keeps a task running until the test feeds it.
class InProcessNodeTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    DatasetCatalog datasets;
    ASSERT_TRUE(datasets.Add("a", ExampleDataFile("hospital_a.csv")).ok());
    slow_.Create(datasets, "slow", dir_ / "slow.csv");
    TaskQueueOptions options = InProcessNode::DefaultOptions();
    options.max_concurrent = 1;
    options.max_queued = 1;
    options.policy.min_samples = 0;
    node_ = std::make_unique<InProcessNode>(
        "n", std::make_shared<ModelRepository>(ExampleModelsDir()), std::move(datasets), options);
  }
  void TearDown() override {
    slow_.ReleaseWhile([&] { node_.reset(); });
  }

  static NodeTask Task(const std::string& id, const std::string& dataset) {
    NodeTask t;
    t.job_id = id;
    t.model_id = "heart_mlp";
    t.dataset = dataset;
    return t;
  }

  dim::testing::SlowDataset slow_;
  std::unique_ptr<InProcessNode> node_;
};

TEST_F(InProcessNodeTest, RunsATaskThroughItsQueue) {
  CancelToken cancel;
  auto result = node_->RunTask(Task("t1", "a"), cancel, std::chrono::milliseconds(0));
  ASSERT_TRUE(result.ok()) << result.status().message();
  ASSERT_TRUE(std::holds_alternative<Summary>(*result));
  EXPECT_EQ(std::get<Summary>(*result).rows, 240);
}

TEST_F(InProcessNodeTest, RefusesBeforeRunningWhatTheQueueRefuses) {
  CancelToken cancel;
  auto missing = node_->RunTask(Task("t1", "nope"), cancel, std::chrono::milliseconds(0));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("dataset 'nope' not found"));
}

TEST_F(InProcessNodeTest, AFullQueueIsResourceExhaustedAsOnADaemon) {
  CancelToken cancel;
  std::thread running([&] { (void)node_->RunTask(Task("run", "slow"), cancel, {}); });
  std::thread queued;
  // "run" takes the one slot, "wait" the one queue place; a third is refused.
  for (auto start = std::chrono::steady_clock::now();
       node_->Describe().active_jobs < 1 &&
       std::chrono::steady_clock::now() - start < std::chrono::seconds(10);) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  queued = std::thread([&] { (void)node_->RunTask(Task("wait", "a"), cancel, {}); });
  for (auto start = std::chrono::steady_clock::now();
       node_->Describe().queued_jobs < 1 &&
       std::chrono::steady_clock::now() - start < std::chrono::seconds(10);) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto full = node_->RunTask(Task("third", "a"), cancel, {});
  EXPECT_EQ(full.status().code(), StatusCode::kResourceExhausted);
  slow_.Release();
  running.join();
  queued.join();
}

TEST_F(InProcessNodeTest, TheJobsCancelStopsTheTask) {
  CancelToken cancel;
  Result<TaskResult> end = Status::Internal("not ended");
  std::thread running([&] { end = node_->RunTask(Task("run", "slow"), cancel, {}); });
  for (auto start = std::chrono::steady_clock::now();
       node_->Describe().active_jobs < 1 &&
       std::chrono::steady_clock::now() - start < std::chrono::seconds(10);) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  cancel.Cancel();
  // The follower looks at the job's cancel every kCancelPoll and cancels the task on the
  // queue; fed only then, the task sees the cancel before its first batch.
  std::this_thread::sleep_for(InProcessNode::kCancelPoll * 4);
  slow_.Release();
  running.join();
  EXPECT_EQ(end.status().code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace dim::core
