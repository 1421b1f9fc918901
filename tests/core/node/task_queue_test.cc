#include "core/node/task_queue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/stats/summary.h"
#include "tests/core/node/fake_model_fetcher.h"
#include "tests/core/node/slow_dataset.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

using dim::testing::ExampleDataFile;
using dim::testing::ExampleModelExists;
using dim::testing::ExampleModelsDir;

// Each call is one second after the previous one, so timestamps order events strictly.
class CountingClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 50) +
           std::chrono::seconds(ticks_.fetch_add(1));
  }

 private:
  mutable std::atomic<int64_t> ticks_{0};
};

bool Ended(TaskState state) { return IsEnded(state); }

// Dataset "slow" is a named pipe: a task that reads it blocks in open() until the test lets
// it go with Release(), so "this task is still running" holds for as long as a test needs.
class TaskQueueTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ExampleModelExists("heart_mlp"));
    ASSERT_TRUE(datasets_.Add("a", ExampleDataFile("hospital_a.csv")).ok());
    slow_.Create(datasets_, "slow", dir_ / "slow.csv");
    const fs::path narrow = Write("narrow.csv", "a,b,c,d,e,f,g\n1,2,3,4,5,6,7\n");
    ASSERT_TRUE(datasets_.Add("narrow", narrow).ok());
  }

  // Destroys the queue while letting any task still blocked on the pipe go.
  void TearDown() override {
    slow_.ReleaseWhile([&] { queue_.reset(); });
  }

  // The fixture's "slow" dataset has 3 rows: allow it, unless a test sets a policy.
  void Start(TaskQueueOptions options, NodePolicy policy = NodePolicy{.min_samples = 0}) {
    options.policy = policy;
    queue_ = std::make_unique<TaskQueue>(models_, datasets_, clock_, options);
  }

  static NodeTask Task(const std::string& id, const std::string& dataset = "a") {
    NodeTask t;
    t.job_id = id;
    t.model_id = "heart_mlp";
    t.dataset = dataset;
    return t;
  }

  // Lets the one task that reads "slow" go on.
  void Release() { slow_.Release(); }

  TaskView WaitFor(const std::string& id, bool (*done)(TaskState)) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      auto view = queue_->Get(id);
      EXPECT_TRUE(view.ok()) << view.status().ToString();
      if (!view.ok()) return {};
      if (done(view->state) || std::chrono::steady_clock::now() > deadline) return *view;
      std::this_thread::sleep_for(1ms);
    }
  }
  TaskView WaitEnded(const std::string& id) { return WaitFor(id, Ended); }
  void WaitRunning(const std::string& id) {
    TaskView v = WaitFor(id, [](TaskState s) { return s != TaskState::kQueued; });
    ASSERT_EQ(v.state, TaskState::kRunning);
  }

  dim::testing::SlowDataset slow_;
  CountingClock clock_;
  ModelRepository models_{ExampleModelsDir()};
  DatasetCatalog datasets_;
  std::unique_ptr<TaskQueue> queue_;
};

TEST_F(TaskQueueTest, SubmittedTaskCompletesWithItsSummary) {
  Start({});
  ASSERT_TRUE(queue_->Submit(Task("t1"), Priority::kNormal).ok());
  TaskView v = WaitEnded("t1");
  EXPECT_EQ(v.job_id, "t1");
  ASSERT_EQ(v.state, TaskState::kCompleted) << v.error;
  EXPECT_EQ(v.error.code(), StatusCode::kOk);
  EXPECT_FALSE(v.started_at.empty());
  EXPECT_FALSE(v.completed_at.empty());
  EXPECT_LT(v.started_at, v.completed_at);
  EXPECT_GE(v.execution_seconds, 0);

  auto json = nlohmann::json::parse(v.result_json, nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << v.result_json;
  auto summary = SummaryFromJson(json);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 240);
  EXPECT_EQ(summary->columns.size(), 3u);
  EXPECT_THAT(summary->class_counts, ElementsAre(125, 93, 22));
  // The typed result beside its text, for in-process readers.
  ASSERT_NE(v.result, nullptr);
  ASSERT_TRUE(std::holds_alternative<Summary>(*v.result));
  EXPECT_EQ(std::get<Summary>(*v.result).class_counts, summary->class_counts);
}

TEST_F(TaskQueueTest, GetOfUnknownIdIsNotFound) {
  Start({});
  auto v = queue_->Get("nope");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(v.status().message(), HasSubstr("'nope'"));
}

TEST_F(TaskQueueTest, SubmitRejectsMissingDatasetOrModelBeforeQueueing) {
  Start({});
  Status no_data = queue_->Submit(Task("t1", "hospital_z"), Priority::kNormal);
  EXPECT_EQ(no_data.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_data.message(), HasSubstr("hospital_z"));

  NodeTask task = Task("t2");
  task.model_id = "ghost";
  Status no_model = queue_->Submit(task, Priority::kNormal);
  EXPECT_EQ(no_model.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_model.message(), HasSubstr("ghost"));

  task.model_id = "../heart_mlp";
  EXPECT_EQ(queue_->Submit(task, Priority::kNormal).code(), StatusCode::kInvalidArgument);

  EXPECT_EQ(queue_->Get("t1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_->Get("t2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_->Stats().queued, 0);
}

TEST_F(TaskQueueTest, ComparativeTaskChecksEveryModelAndReportsTheNodesError) {
  Start({});
  NodeTask task = Task("c1");
  task.kind = NodeTaskKind::kComparative;
  task.model_ids = {"heart_mlp", "ghost"};
  Status no_model = queue_->Submit(task, Priority::kNormal);
  EXPECT_EQ(no_model.code(), StatusCode::kNotFound);
  EXPECT_THAT(no_model.message(), HasSubstr("ghost"));
  EXPECT_EQ(queue_->Get("c1").status().code(), StatusCode::kNotFound);

  task.model_ids = {"heart_mlp", "heart_risk"};
  ASSERT_TRUE(queue_->Submit(task, Priority::kNormal).ok());
  TaskView v = WaitEnded("c1");
  EXPECT_EQ(v.state, TaskState::kFailed);
  EXPECT_EQ(v.error.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(v.error.message(),
              HasSubstr("models 'heart_mlp' and 'heart_risk' have different output"));
}

TEST_F(TaskQueueTest, ActiveDuplicateIdIsAlreadyExists) {
  Start({.max_concurrent = 1});
  ASSERT_TRUE(queue_->Submit(Task("busy", "slow"), Priority::kNormal).ok());
  WaitRunning("busy");
  ASSERT_TRUE(queue_->Submit(Task("waiting"), Priority::kNormal).ok());

  Status running_dup = queue_->Submit(Task("busy"), Priority::kNormal);
  EXPECT_EQ(running_dup.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(running_dup.message(), HasSubstr("running"));
  Status queued_dup = queue_->Submit(Task("waiting"), Priority::kHigh);
  EXPECT_EQ(queued_dup.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(queued_dup.message(), HasSubstr("queued"));

  Release();
  EXPECT_EQ(WaitEnded("busy").state, TaskState::kCompleted);
  EXPECT_EQ(WaitEnded("waiting").state, TaskState::kCompleted);

  // A finished id may be used again: the new task replaces the old one.
  ASSERT_TRUE(queue_->Submit(Task("busy"), Priority::kNormal).ok());
  TaskView again = WaitEnded("busy");
  ASSERT_EQ(again.state, TaskState::kCompleted) << again.error;
  auto summary = SummaryFromJson(nlohmann::json::parse(again.result_json));
  ASSERT_TRUE(summary.ok());
  EXPECT_EQ(summary->rows, 240);  // dataset "a", not "slow" (3 rows)
}

TEST_F(TaskQueueTest, FullQueueIsResourceExhausted) {
  Start({.max_concurrent = 1, .max_queued = 2});
  ASSERT_TRUE(queue_->Submit(Task("running", "slow"), Priority::kNormal).ok());
  WaitRunning("running");  // no longer counts as waiting
  ASSERT_TRUE(queue_->Submit(Task("q1"), Priority::kNormal).ok());
  ASSERT_TRUE(queue_->Submit(Task("q2"), Priority::kNormal).ok());
  Status full = queue_->Submit(Task("q3"), Priority::kHigh);
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(full.message(), HasSubstr("2"));
  EXPECT_EQ(queue_->Get("q3").status().code(), StatusCode::kNotFound);

  // Cancelling a waiting task frees its place.
  ASSERT_TRUE(queue_->Cancel("q1").ok());
  ASSERT_TRUE(queue_->Submit(Task("q3"), Priority::kNormal).ok());

  Release();
  EXPECT_EQ(WaitEnded("running").state, TaskState::kCompleted);
  EXPECT_EQ(WaitEnded("q2").state, TaskState::kCompleted);
  EXPECT_EQ(WaitEnded("q3").state, TaskState::kCompleted);
  EXPECT_EQ(WaitEnded("q1").state, TaskState::kCancelled);
}

TEST_F(TaskQueueTest, HighBeforeNormalBeforeLowAndFifoWithinAPriority) {
  Start({.max_concurrent = 1});
  ASSERT_TRUE(queue_->Submit(Task("blocker", "slow"), Priority::kNormal).ok());
  WaitRunning("blocker");
  const std::vector<std::pair<std::string, Priority>> submitted = {
      {"low1", Priority::kLow},   {"normal1", Priority::kNormal},      {"high1", Priority::kHigh},
      {"low2", Priority::kLow},   {"normal2", Priority::kUnspecified},  // taken as normal
      {"high2", Priority::kHigh}, {"normal3", Priority::kNormal},
  };
  for (const auto& [id, priority] : submitted) {
    ASSERT_TRUE(queue_->Submit(Task(id), priority).ok()) << id;
  }
  Release();
  std::vector<std::pair<std::string, std::string>> started;  // started_at, id
  for (const auto& [id, priority] : submitted) {
    TaskView v = WaitEnded(id);
    ASSERT_EQ(v.state, TaskState::kCompleted) << id << ": " << v.error;
    started.emplace_back(v.started_at, id);
  }
  std::sort(started.begin(), started.end());
  std::vector<std::string> order;
  for (const auto& s : started) order.push_back(s.second);
  EXPECT_THAT(order,
              ElementsAre("high1", "high2", "normal1", "normal2", "normal3", "low1", "low2"));
}

TEST_F(TaskQueueTest, CancelledQueuedTaskNeverRuns) {
  Start({.max_concurrent = 1});
  ASSERT_TRUE(queue_->Submit(Task("blocker", "slow"), Priority::kNormal).ok());
  WaitRunning("blocker");
  ASSERT_TRUE(queue_->Submit(Task("victim"), Priority::kHigh).ok());
  ASSERT_TRUE(queue_->Submit(Task("after"), Priority::kLow).ok());
  ASSERT_TRUE(queue_->Cancel("victim").ok());

  auto v = queue_->Get("victim");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->state, TaskState::kCancelled);
  EXPECT_EQ(v->error.code(), StatusCode::kCancelled);
  EXPECT_FALSE(v->completed_at.empty());
  EXPECT_EQ(queue_->Stats().queued, 1);

  Status again = queue_->Cancel("victim");
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("cancelled"));

  Release();
  EXPECT_EQ(WaitEnded("after").state, TaskState::kCompleted);
  v = queue_->Get("victim");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->state, TaskState::kCancelled);
  EXPECT_TRUE(v->started_at.empty());
  EXPECT_TRUE(v->result_json.empty());
}

TEST_F(TaskQueueTest, ResubmittedCancelledIdWaitsForItsNewPriority) {
  Start({.max_concurrent = 1});
  ASSERT_TRUE(queue_->Submit(Task("blocker", "slow"), Priority::kNormal).ok());
  WaitRunning("blocker");
  ASSERT_TRUE(queue_->Submit(Task("x"), Priority::kHigh).ok());
  ASSERT_TRUE(queue_->Cancel("x").ok());
  ASSERT_TRUE(queue_->Submit(Task("normal"), Priority::kNormal).ok());
  ASSERT_TRUE(queue_->Submit(Task("x"), Priority::kLow).ok());  // the id is free again
  Release();
  TaskView x = WaitEnded("x");
  TaskView normal = WaitEnded("normal");
  ASSERT_EQ(x.state, TaskState::kCompleted) << x.error;
  ASSERT_EQ(normal.state, TaskState::kCompleted) << normal.error;
  EXPECT_LT(normal.started_at, x.started_at) << "the low task ran in the cancelled one's place";
}

TEST_F(TaskQueueTest, CancelledRunningTaskStopsAtItsNextBatch) {
  Start({.max_concurrent = 1});
  ASSERT_TRUE(queue_->Submit(Task("victim", "slow"), Priority::kNormal).ok());
  WaitRunning("victim");
  ASSERT_TRUE(queue_->Cancel("victim").ok());
  Release();
  TaskView v = WaitEnded("victim");
  EXPECT_EQ(v.state, TaskState::kCancelled);
  EXPECT_EQ(v.error.code(), StatusCode::kCancelled);
  EXPECT_TRUE(v.result_json.empty());
}

TEST_F(TaskQueueTest, CancelOfUnknownOrFinishedTaskFails) {
  Start({});
  EXPECT_EQ(queue_->Cancel("nope").code(), StatusCode::kNotFound);
  ASSERT_TRUE(queue_->Submit(Task("done"), Priority::kNormal).ok());
  ASSERT_EQ(WaitEnded("done").state, TaskState::kCompleted);
  Status s = queue_->Cancel("done");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("completed"));
}

TEST_F(TaskQueueTest, FailedTaskReportsItsError) {
  Start({});
  ASSERT_TRUE(queue_->Submit(Task("bad", "narrow"), Priority::kNormal).ok());
  TaskView v = WaitEnded("bad");
  EXPECT_EQ(v.state, TaskState::kFailed);
  EXPECT_EQ(v.error.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(v.error.message(), HasSubstr("line 1 (header), column 8: the header has 7 feature "
                                           "columns but model 'heart_mlp' expects 8"));
  EXPECT_TRUE(v.result_json.empty());
}

TEST_F(TaskQueueTest, StatsCountActiveQueuedAndOutcomes) {
  Start({.max_concurrent = 1});
  TaskStats empty = queue_->Stats();
  EXPECT_EQ(empty.total, 0);
  EXPECT_EQ(empty.avg_execution_seconds, 0);

  ASSERT_TRUE(queue_->Submit(Task("s1", "slow"), Priority::kNormal).ok());
  WaitRunning("s1");
  ASSERT_TRUE(queue_->Submit(Task("s2"), Priority::kNormal).ok());
  ASSERT_TRUE(queue_->Submit(Task("s3", "narrow"), Priority::kNormal).ok());
  ASSERT_TRUE(queue_->Submit(Task("s4"), Priority::kNormal).ok());
  ASSERT_TRUE(queue_->Cancel("s4").ok());
  TaskStats busy = queue_->Stats();
  EXPECT_EQ(busy.active, 1);
  EXPECT_EQ(busy.queued, 2);
  EXPECT_EQ(busy.total, 0);

  Release();
  WaitEnded("s1");
  WaitEnded("s2");
  WaitEnded("s3");
  TaskStats done = queue_->Stats();
  EXPECT_EQ(done.active, 0);
  EXPECT_EQ(done.queued, 0);
  EXPECT_EQ(done.total, 3);  // the task cancelled while waiting never ran
  EXPECT_EQ(done.successful, 2);
  EXPECT_EQ(done.failed, 1);
  EXPECT_GT(done.avg_execution_seconds, 0);
}

TEST_F(TaskQueueTest, ForgetsTheOldestFinishedTasksBeyondKeepFinished) {
  Start({.max_concurrent = 1, .keep_finished = 2});
  for (const char* id : {"f1", "f2", "f3"}) {
    ASSERT_TRUE(queue_->Submit(Task(id), Priority::kNormal).ok());
    ASSERT_EQ(WaitEnded(id).state, TaskState::kCompleted);
  }
  EXPECT_EQ(queue_->Get("f1").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(queue_->Get("f2").ok());
  EXPECT_TRUE(queue_->Get("f3").ok());
}

// Finished results are kept within a byte budget too: a node that ran many tasks over
// rows does not hold every result it ever gave.
TEST_F(TaskQueueTest, ForgetsTheOldestFinishedResultsBeyondKeepFinishedBytes) {
  Start({.max_concurrent = 1, .keep_finished = 100, .keep_finished_bytes = 1});
  for (const char* id : {"b1", "b2", "b3"}) {
    ASSERT_TRUE(queue_->Submit(Task(id), Priority::kNormal).ok());
    ASSERT_EQ(WaitEnded(id).state, TaskState::kCompleted);  // read, so it may go
  }
  EXPECT_EQ(queue_->Get("b1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(queue_->Get("b2").status().code(), StatusCode::kNotFound);
  auto last = queue_->Get("b3");  // the newest is always kept
  ASSERT_TRUE(last.ok());
  EXPECT_NE(last->result, nullptr);
  // A result nobody has read yet stays however many others end after it.
  ASSERT_TRUE(queue_->Submit(Task("unread"), Priority::kNormal).ok());
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (queue_->Stats().total < 4 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(1ms);
  }
  for (const char* id : {"c1", "c2"}) {
    ASSERT_TRUE(queue_->Submit(Task(id), Priority::kNormal).ok());
    ASSERT_EQ(WaitEnded(id).state, TaskState::kCompleted);
  }
  auto unread = queue_->Get("unread");
  ASSERT_TRUE(unread.ok()) << unread.status().ToString();
  EXPECT_EQ(unread->state, TaskState::kCompleted);
}

TEST_F(TaskQueueTest, SubmitRefusesASummaryTaskBelowTheNodesMinSamples) {
  Start({}, NodePolicy{});  // the default policy: min_samples 10
  Status s = queue_->Submit(Task("small", "slow"), Priority::kNormal);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "dataset 'slow' has 3 rows, fewer than this node's min_samples 10");
  EXPECT_EQ(queue_->Get("small").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(queue_->Submit(Task("big", "a"), Priority::kNormal).ok());
}


// WaitForEnd: the daemon's long poll. Each waiter is called exactly once.
class WaitLog {
 public:
  TaskWaiter Fn() {
    return [this](const TaskView& v) {
      std::lock_guard lock(mu_);
      views_.push_back(v);
      cv_.notify_all();
    };
  }
  // The calls so far, after waiting up to 10 s for at least `n`.
  std::vector<TaskView> Wait(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, 10s, [&] { return views_.size() >= n; });
    return views_;
  }
  size_t Count() {
    std::lock_guard lock(mu_);
    return views_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TaskView> views_;
};

TEST_F(TaskQueueTest, WaitForEndIsCalledOnceWhenTheTaskEnds) {
  Start({.max_concurrent = 1});
  ASSERT_TRUE(queue_->Submit(Task("w", "slow"), Priority::kNormal).ok());
  WaitRunning("w");
  WaitLog log;
  auto handle = queue_->WaitForEnd("w", std::chrono::steady_clock::now() + 60s, log.Fn());
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_NE(*handle, 0);
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(log.Count(), 0u);  // still running
  Release();
  auto views = log.Wait(1);
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].job_id, "w");
  EXPECT_EQ(views[0].state, TaskState::kCompleted) << views[0].error;
  EXPECT_FALSE(views[0].result_json.empty());
  queue_->CancelWait(*handle);  // already called: nothing more
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(log.Count(), 1u);

  // A task that already ended is answered at once, from the caller's thread.
  WaitLog ended;
  auto at_once = queue_->WaitForEnd("w", std::chrono::steady_clock::now() + 60s, ended.Fn());
  ASSERT_TRUE(at_once.ok());
  EXPECT_EQ(*at_once, 0);
  ASSERT_EQ(ended.Count(), 1u);
  EXPECT_EQ(ended.Wait(1)[0].state, TaskState::kCompleted);

  EXPECT_EQ(queue_->WaitForEnd("nope", std::chrono::steady_clock::now(), ended.Fn())
                .status()
                .code(),
            StatusCode::kNotFound);
}

TEST_F(TaskQueueTest, WaitForEndAnswersWithTheCurrentViewAtItsDeadlineOrOnCancelWait) {
  Start({.max_concurrent = 1});
  ASSERT_TRUE(queue_->Submit(Task("busy", "slow"), Priority::kNormal).ok());
  WaitRunning("busy");
  ASSERT_TRUE(queue_->Submit(Task("queued"), Priority::kNormal).ok());

  WaitLog late, early, dropped;
  const auto asked = std::chrono::steady_clock::now();
  ASSERT_TRUE(queue_->WaitForEnd("busy", asked + 60s, late.Fn()).ok());  // earliest last
  ASSERT_TRUE(queue_->WaitForEnd("busy", asked + 50ms, early.Fn()).ok());
  auto handle = queue_->WaitForEnd("queued", asked + 60s, dropped.Fn());
  ASSERT_TRUE(handle.ok());

  auto views = early.Wait(1);
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].state, TaskState::kRunning);
  EXPECT_GE(std::chrono::steady_clock::now() - asked, 50ms);
  EXPECT_EQ(late.Count(), 0u);

  queue_->CancelWait(*handle);  // called at once, from this thread
  ASSERT_EQ(dropped.Count(), 1u);
  EXPECT_EQ(dropped.Wait(1)[0].state, TaskState::kQueued);
  queue_->CancelWait(*handle);
  queue_->CancelWait(0);
  EXPECT_EQ(dropped.Count(), 1u);

  Release();
  EXPECT_EQ(late.Wait(1).at(0).state, TaskState::kCompleted);
  EXPECT_EQ(early.Count(), 1u);
}

TEST_F(TaskQueueTest, WaitForEndSeesAQueuedTaskCancelled) {
  Start({.max_concurrent = 1});
  ASSERT_TRUE(queue_->Submit(Task("busy", "slow"), Priority::kNormal).ok());
  WaitRunning("busy");
  ASSERT_TRUE(queue_->Submit(Task("victim"), Priority::kNormal).ok());
  ASSERT_TRUE(queue_->Submit(Task("left"), Priority::kNormal).ok());
  WaitLog cancelled, left;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  ASSERT_TRUE(queue_->WaitForEnd("victim", deadline, cancelled.Fn()).ok());
  auto handle = queue_->WaitForEnd("left", deadline, left.Fn());
  ASSERT_TRUE(handle.ok());
  ASSERT_TRUE(queue_->Cancel("victim").ok());
  ASSERT_EQ(cancelled.Count(), 1u);  // from Cancel's thread, before it returned
  EXPECT_EQ(cancelled.Wait(1)[0].state, TaskState::kCancelled);
  EXPECT_EQ(left.Count(), 0u);
  queue_->CancelWait(*handle);  // before `left` goes
  EXPECT_EQ(left.Count(), 1u);
  Release();
  EXPECT_EQ(WaitEnded("left").state, TaskState::kCompleted);
  EXPECT_EQ(left.Count(), 1u);
}

// A task whose follower left (its last waiter went, none came back, nobody looked) is
// cancelled after abandon_after, queued or running; one that is followed again in time, or
// was never followed (a client that polls Get), is left alone. The test watches the queue's
// counts, since a look at a task (Get) counts as following it.
TEST_F(TaskQueueTest, ATaskItsFollowerLeftIsAbandoned) {
  Start({.max_concurrent = 1, .abandon_after = 150ms});
  ASSERT_TRUE(queue_->Submit(Task("busy", "slow"), Priority::kNormal).ok());
  WaitRunning("busy");
  for (const char* id : {"left", "polled", "followed"}) {
    ASSERT_TRUE(queue_->Submit(Task(id), Priority::kNormal).ok());
  }
  const auto far = std::chrono::steady_clock::now() + 60s;
  WaitLog busy_log, left_log, followed_log;
  auto busy = queue_->WaitForEnd("busy", far, busy_log.Fn());
  auto left = queue_->WaitForEnd("left", far, left_log.Fn());
  ASSERT_TRUE(busy.ok() && left.ok());
  ASSERT_TRUE(queue_->WaitForEnd("followed", far, followed_log.Fn()).ok());
  const auto gone = std::chrono::steady_clock::now();
  queue_->CancelWait(*busy);  // their followers go, as a killed orchestrator's calls do
  queue_->CancelWait(*left);

  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (queue_->Stats().queued > 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - gone, 150ms);
  TaskView v = *queue_->Get("left");
  EXPECT_EQ(v.state, TaskState::kCancelled);
  EXPECT_EQ(v.error.code(), StatusCode::kCancelled);
  EXPECT_THAT(v.error.message(), HasSubstr("abandoned: no one followed this task for 150ms"));
  EXPECT_EQ(queue_->Get("polled")->state, TaskState::kQueued);
  EXPECT_EQ(queue_->Get("followed")->state, TaskState::kQueued);

  // The running one was told to stop when its look came, before the queued one's.
  Release();
  v = WaitEnded("busy");
  EXPECT_EQ(v.state, TaskState::kCancelled);
  EXPECT_THAT(v.error.message(), HasSubstr("abandoned"));
  EXPECT_EQ(WaitEnded("polled").state, TaskState::kCompleted);
  EXPECT_EQ(followed_log.Wait(1).at(0).state, TaskState::kCompleted);
}

TEST_F(TaskQueueTest, ALookAtATaskPutsOffItsAbandonment) {
  Start({.max_concurrent = 1, .abandon_after = 100ms});
  ASSERT_TRUE(queue_->Submit(Task("busy", "slow"), Priority::kNormal).ok());
  WaitRunning("busy");
  ASSERT_TRUE(queue_->Submit(Task("looked-at"), Priority::kNormal).ok());
  WaitLog log;
  auto handle = queue_->WaitForEnd("looked-at", std::chrono::steady_clock::now() + 60s, log.Fn());
  ASSERT_TRUE(handle.ok());
  queue_->CancelWait(*handle);  // followed once, then only looked at, for 3x abandon_after
  const auto until = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_EQ(queue_->Get("looked-at")->state, TaskState::kQueued);
    std::this_thread::sleep_for(20ms);
  }
  Release();
  EXPECT_EQ(WaitEnded("looked-at").state, TaskState::kCompleted);
}

TEST_F(TaskQueueTest, ATaskFollowedByOneLongPollAfterAnotherIsNotAbandoned) {
  Start({.max_concurrent = 1, .abandon_after = 100ms});
  ASSERT_TRUE(queue_->Submit(Task("long", "slow"), Priority::kNormal).ok());
  WaitRunning("long");
  // Long polls of 30 ms, one after another, for three times abandon_after.
  const auto until = std::chrono::steady_clock::now() + 300ms;
  size_t polls = 0;
  while (std::chrono::steady_clock::now() < until) {
    WaitLog log;
    ASSERT_TRUE(queue_->WaitForEnd("long", std::chrono::steady_clock::now() + 30ms, log.Fn()).ok());
    ASSERT_EQ(log.Wait(1).at(0).state, TaskState::kRunning);
    ++polls;
  }
  EXPECT_GE(polls, 5u);
  Release();
  EXPECT_EQ(WaitEnded("long").state, TaskState::kCompleted);
}

// A node that fetches models: Submit accepts a model it lacks, and the worker fetches it.
TEST_F(TaskQueueTest, AFetchableModelIsAcceptedAtOnceAndFetchedByTheWorker) {
  std::ifstream in(ExampleModelsDir() / "heart_mlp.onnx", std::ios::binary);
  dim::testing::FakeModelFetcher store;
  store.Add("fetched_mlp", {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()});
  store.Hold();
  ModelCacheOptions options;
  options.fetcher = &store;
  ModelRepository models(dir_ / "cache", Device::kCpu, options);
  TaskQueue queue(models, datasets_, clock_, TaskQueueOptions{});
  auto wait_ended = [&](const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    for (;;) {
      auto view = queue.Get(id);
      if (!view.ok() || Ended(view->state) || std::chrono::steady_clock::now() > deadline) {
        return view.ok() ? *view : TaskView{};
      }
      std::this_thread::sleep_for(1ms);
    }
  };

  NodeTask task = Task("f1");
  task.model_id = "fetched_mlp";
  ASSERT_TRUE(queue.Submit(task, Priority::kNormal).ok());  // not waiting for the fetch
  while (store.waiting() == 0) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(queue.Get("f1")->state, TaskState::kRunning);  // the worker is fetching
  store.Release();
  TaskView done = wait_ended("f1");
  ASSERT_EQ(done.state, TaskState::kCompleted) << done.error;
  EXPECT_TRUE(fs::exists(dir_ / "cache" / "fetched_mlp.onnx"));
  EXPECT_EQ(SummaryFromJson(nlohmann::json::parse(done.result_json))->rows, 240);

  // A model the store lacks fails the task, with the store's answer.
  task.job_id = "f2";
  task.model_id = "ghost";
  ASSERT_TRUE(queue.Submit(task, Priority::kNormal).ok());
  TaskView failed = wait_ended("f2");
  EXPECT_EQ(failed.state, TaskState::kFailed);
  EXPECT_EQ(failed.error.code(), StatusCode::kNotFound);
  EXPECT_THAT(failed.error.message(), HasSubstr("cannot fetch model 'ghost' from fake store"));
}

}  // namespace
}  // namespace dim::core
