// RunNodeTasks with the two kinds of node client: those that start a task and report its end
// later (NodeClient::StartTask, as gRPC nodes do) run on no thread of the directory's; those
// that only block (RunTask) run on the directory's threads.
#include "core/patterns/node_runs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace dim::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// How a StartingNode reports a task's end.
enum class Report {
  kLater,     // from a thread of its own, after a few milliseconds
  kInline,    // inside StartTask, before it returns
  kOnCancel,  // once the task's token is raised (then CANCELLED)
};

// What node `id` answers: a summary of as many rows as the id's letter's place ("a": 1).
TaskResult AnswerOf(const std::string& id) {
  Summary summary;
  summary.rows = id[0] - 'a' + 1;
  return summary;
}

// The rows of an outcome's summary, 0 when it has none.
int64_t RowsOf(const NodeRunOutcome& outcome) {
  const auto* summary = std::get_if<Summary>(&outcome.result);
  return summary ? summary->rows : 0;
}

// A node that starts tasks without a caller's thread, answering AnswerOf(id) or failing.
class StartingNode final : public NodeClient {
 public:
  StartingNode(std::string id, Report report, Status failure = Status::Ok())
      : id_(std::move(id)), report_(report), failure_(std::move(failure)) {}
  ~StartingNode() override {
    for (auto& t : threads_) t.join();
  }

  Result<TaskResult> RunTask(const NodeTask&, const CancelToken&,
                             std::chrono::milliseconds) override {
    ADD_FAILURE() << "RunTask called on a node that starts its tasks";
    return Status::Internal("RunTask called");
  }
  bool StartTask(const NodeTask& task, const CancelToken& cancel, std::chrono::milliseconds,
                 TaskDone& done) override {
    ++started_;
    last_job_ = task.job_id;
    if (report_ == Report::kInline) {
      done(Answer());
      return true;
    }
    threads_.emplace_back([this, &cancel, done = std::move(done)] {
      if (report_ == Report::kOnCancel) {
        const auto give_up = std::chrono::steady_clock::now() + 10s;
        while (!cancel.cancelled() && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(1ms);
        }
        done(Status::Cancelled("stopped on the node"));
        return;
      }
      std::this_thread::sleep_for(5ms);
      done(Answer());
    });
    return true;
  }

  int started() const { return started_; }
  std::string last_job() const { return last_job_; }

 private:
  Result<TaskResult> Answer() const {
    if (!failure_.ok()) return failure_;
    return AnswerOf(id_);
  }

  std::string id_;
  Report report_;
  Status failure_;
  std::atomic<int> started_{0};
  std::string last_job_;
  std::vector<std::thread> threads_;
};

// A node that only blocks: answers AnswerOf(id) on the calling thread.
class BlockingNode final : public NodeClient {
 public:
  explicit BlockingNode(std::string id) : id_(std::move(id)) {}
  Result<TaskResult> RunTask(const NodeTask&, const CancelToken&,
                             std::chrono::milliseconds) override {
    return AnswerOf(id_);
  }

 private:
  std::string id_;
};

// Counts the threads it is asked for.
class Directory final : public NodeDirectory {
 public:
  void Add(const std::string& id, std::shared_ptr<NodeClient> node) {
    nodes_[id] = std::move(node);
  }
  Result<std::shared_ptr<NodeClient>> Client(const std::string& node_id) override {
    auto it = nodes_.find(node_id);
    if (it == nodes_.end()) return Status::NotFound("node '" + node_id + "' not found");
    return it->second;
  }
  std::vector<NodeDescription> Describe() override { return {}; }
  void StartThread(std::function<void()> work) override {
    ++threads_;
    NodeDirectory::StartThread(std::move(work));
  }
  int threads() const { return threads_; }

 private:
  std::map<std::string, std::shared_ptr<NodeClient>> nodes_;
  std::atomic<int> threads_{0};
};

std::vector<NodeRunRequest> Requests(const std::vector<std::string>& ids) {
  std::vector<NodeRunRequest> out;
  for (const auto& id : ids) {
    NodeRunRequest r;
    r.node_id = id;
    r.task.job_id = "job-1";
    out.push_back(std::move(r));
  }
  return out;
}

// Every on_update call, as "node:status", in order.
struct Updates {
  std::mutex mu;
  std::vector<std::string> seen;
  NodeUpdateFn Fn() {
    return [this](size_t, const NodeTaskRecord& r) {
      std::lock_guard lock(mu);
      seen.push_back(r.node_id + ":" + std::string(TaskStateName(r.state)));
    };
  }
};

TEST(RunNodeTasks, NodesThatStartTheirTasksTakeNoThread) {
  Directory dir;
  auto a = std::make_shared<StartingNode>("a", Report::kLater);
  auto b = std::make_shared<StartingNode>("b", Report::kLater);
  dir.Add("a", a);
  dir.Add("b", b);
  SystemClock clock;
  CancelToken cancel;
  Updates updates;
  auto outcomes = RunNodeTasks(Requests({"a", "b"}), dir, cancel, clock, 0, updates.Fn());
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  EXPECT_EQ(dir.threads(), 0);
  EXPECT_EQ(a->started(), 1);
  EXPECT_EQ(a->last_job(), "job-1");
  ASSERT_EQ(outcomes->size(), 2u);
  EXPECT_EQ((*outcomes)[0].record.state, TaskState::kCompleted);
  EXPECT_EQ(RowsOf((*outcomes)[0]), 1);
  EXPECT_EQ(RowsOf((*outcomes)[1]), 2);
  ASSERT_EQ(updates.seen.size(), 4u);
  EXPECT_EQ(updates.seen[0], "a:running");
  EXPECT_EQ(updates.seen[1], "b:running");
}

TEST(RunNodeTasks, AnEndReportedInsideStartTaskComesAfterEveryStart) {
  Directory dir;
  dir.Add("a", std::make_shared<StartingNode>("a", Report::kInline));
  dir.Add("b", std::make_shared<StartingNode>("b", Report::kInline, Status::NotFound("no model")));
  SystemClock clock;
  CancelToken cancel;
  Updates updates;
  auto outcomes = RunNodeTasks(Requests({"a", "b"}), dir, cancel, clock, 0, updates.Fn());
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  EXPECT_THAT(updates.seen, ElementsAre("a:running", "b:running", "a:completed", "b:failed"));
  EXPECT_EQ((*outcomes)[1].record.error.code(), StatusCode::kNotFound);
  EXPECT_THAT((*outcomes)[1].record.error.message(), HasSubstr("no model"));
}

TEST(RunNodeTasks, BlockingNodesRunOnTheDirectorysThreads) {
  Directory dir;
  dir.Add("a", std::make_shared<BlockingNode>("a"));
  dir.Add("b", std::make_shared<StartingNode>("b", Report::kLater));
  SystemClock clock;
  CancelToken cancel;
  Updates updates;
  auto outcomes = RunNodeTasks(Requests({"a", "b", "gone"}), dir, cancel, clock, 0, updates.Fn());
  ASSERT_TRUE(outcomes.ok()) << outcomes.status().ToString();
  EXPECT_EQ(dir.threads(), 1);  // a's; b started its own, "gone" has no client
  EXPECT_EQ(RowsOf((*outcomes)[0]), 1);
  EXPECT_EQ(RowsOf((*outcomes)[1]), 2);
  EXPECT_EQ((*outcomes)[2].record.error.code(), StatusCode::kNotFound);
}

TEST(RunNodeTasks, AStartedTaskIsToldToStopAndWaitedFor) {
  Directory dir;
  auto node = std::make_shared<StartingNode>("a", Report::kOnCancel);
  dir.Add("a", node);
  SystemClock clock;
  Updates updates;

  // Past its time limit: the node's token is raised, and the outcome is the time limit.
  CancelToken never;
  auto late = RunNodeTasks(Requests({"a"}), dir, never, clock, 0.05, updates.Fn());
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_EQ((*late)[0].record.error.code(), StatusCode::kDeadlineExceeded);

  // The job cancelled: CANCELLED, once the node has reported its end.
  CancelToken cancel;
  std::thread stop([&] {
    std::this_thread::sleep_for(30ms);
    cancel.Cancel();
  });
  auto cancelled = RunNodeTasks(Requests({"a"}), dir, cancel, clock, 0, updates.Fn());
  stop.join();
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(node->started(), 2);
}

}  // namespace
}  // namespace dim::core
