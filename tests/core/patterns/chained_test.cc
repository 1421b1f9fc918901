#include "core/patterns/chained.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/stats/summary.h"

namespace dim::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using json = nlohmann::json;
using namespace std::chrono_literals;

// A node whose "models" are named add<N> (adds N to every value) and sum (one column: the
// row's sum). It holds one dataset, "d", and answers step tasks as a daemon does.
class StepNode final : public NodeClient {
 public:
  explicit StepNode(Matrix dataset = Matrix()) : dataset_(std::move(dataset)) {}

  Result<TaskResult> RunTask(const NodeTask& task, const CancelToken& cancel,
                             std::chrono::milliseconds /*timeout*/) override {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(task);
      if (fail_times_ > 0) {
        --fail_times_;
        return Status::Unavailable("node down");
      }
    }
    if (block_) {
      while (!cancel.cancelled()) std::this_thread::sleep_for(5ms);
      return Status::Cancelled("task cancelled");
    }
    if (task.kind != NodeTaskKind::kStep) return Status::InvalidArgument("not a step");
    Matrix m;
    if (task.input_rows) {
      m = *task.input_rows;
    } else {
      if (task.dataset != "d") return Status::NotFound("dataset '" + task.dataset + "' not found");
      m = dataset_;
    }
    std::vector<std::string> models = task.through;
    models.push_back(task.model_id);
    for (const auto& id : models) {
      if (id == "sum") {
        m = Matrix(m.rowwise().sum());
      } else if (id.rfind("add", 0) == 0) {
        m.array() += std::stof(id.substr(3));
      } else {
        return Status::NotFound("model '" + id + "' not found");
      }
    }
    SummaryBuilder summary(m.cols() > 1);
    EXPECT_TRUE(summary.Add(m).ok());
    StepOutput out;
    out.summary = summary.Finish();
    out.width = m.cols();
    if (task.input_rows) out.rows = std::move(m);
    return TaskResult(std::move(out));
  }

  void FailNext(int times) {
    std::lock_guard lock(mu_);
    fail_times_ = times;
  }
  void Block() { block_ = true; }
  std::vector<NodeTask> tasks() {
    std::lock_guard lock(mu_);
    return tasks_;
  }

 private:
  Matrix dataset_;
  std::mutex mu_;
  int fail_times_ = 0;
  std::atomic<bool> block_{false};
  std::vector<NodeTask> tasks_;
};

class Directory final : public NodeDirectory {
 public:
  std::shared_ptr<StepNode> Add(const std::string& id, Matrix dataset = Matrix()) {
    auto node = std::make_shared<StepNode>(std::move(dataset));
    nodes_[id] = node;
    return node;
  }
  Result<std::shared_ptr<NodeClient>> Client(const std::string& id) override {
    auto it = nodes_.find(id);
    if (it == nodes_.end()) return Status::NotFound("node '" + id + "' not found");
    return std::shared_ptr<NodeClient>(it->second);
  }
  std::vector<NodeDescription> Describe() override {
    std::vector<NodeDescription> out;
    for (const auto& [id, node] : nodes_) {
      NodeDescription d;
      d.id = id;
      d.described = described_;
      if (described_) {
        d.datasets.push_back(DatasetEntry{"d", "/data/d.csv", {}});
        d.models = {"add1", "add2", "add10", "sum"};
      }
      out.push_back(d);
    }
    return out;
  }
  bool described_ = false;

 private:
  std::map<std::string, std::shared_ptr<StepNode>> nodes_;
};

Matrix Rows(std::initializer_list<std::initializer_list<float>> rows) {
  Matrix m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
  Eigen::Index r = 0;
  for (const auto& row : rows) {
    Eigen::Index c = 0;
    for (float v : row) m(r, c++) = v;
    ++r;
  }
  return m;
}

ChainedConfig Parse(const json& config) {
  auto parsed = ParseChainedConfig(config.dump());
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : ChainedConfig{};
}

json Step(int k, const std::string& model, const std::string& node, const std::string& source) {
  return {{"step", k}, {"model_id", model}, {"node_id", node}, {"input_source", source}};
}

// Every on_update call: (index, status, node).
struct Updates {
  std::mutex mu;
  std::vector<std::tuple<size_t, std::string, std::string>> seen;
  NodeUpdateFn Fn() {
    return [this](size_t i, const NodeTaskRecord& r) {
      std::lock_guard lock(mu);
      seen.emplace_back(i, std::string(TaskStateName(r.state)), r.node_id);
    };
  }
};

class ChainedTest : public ::testing::Test {
 protected:
  Result<json> Run(const ChainedConfig& config) {
    return RunChained("job-1", config, dir_, cancel_, clock_, updates_.Fn(), &failed_);
  }
  Directory dir_;
  CancelToken cancel_;
  SystemClock clock_;
  Updates updates_;
  json failed_;
};

TEST_F(ChainedTest, ClientRowsFlowAcrossNodesAndComeBack) {
  auto a = dir_.Add("a");
  auto b = dir_.Add("b");
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "client_data"),
                                     Step(2, "add10", "b", "step_1_output")}},
                       {"input_data", {{1, 2}, {3, 4}}}});
  auto result = Run(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)["output_rows"], json({{12.0, 13.0}, {14.0, 15.0}}));
  EXPECT_EQ((*result)["output_shape"], json({2, 2}));
  EXPECT_EQ((*result)["output"]["rows"], 2);
  EXPECT_DOUBLE_EQ((*result)["output"]["columns"][0]["mean"].get<double>(), 13.0);
  // Node b got step 1's outputs as its input rows.
  ASSERT_EQ(b->tasks().size(), 1u);
  ASSERT_TRUE(b->tasks()[0].input_rows.has_value());
  EXPECT_EQ(*b->tasks()[0].input_rows, Rows({{2, 3}, {4, 5}}));
  EXPECT_EQ(b->tasks()[0].job_id, "job-1.step2.try1");
  const json& trace = (*result)["pipeline_trace"];
  ASSERT_EQ(trace.size(), 2u);
  EXPECT_EQ(trace[0]["node_id"], "a");
  EXPECT_EQ(trace[1]["node_id"], "b");
  EXPECT_EQ(trace[1]["status"], "completed");
  EXPECT_EQ(trace[1]["attempts"], 1);
  EXPECT_EQ(trace[1]["input_source"], "step_1_output");
  EXPECT_EQ(trace[1]["output_shape"], json({2, 2}));
  EXPECT_EQ(trace[1]["error"], "");
  EXPECT_TRUE(failed_.is_null());
  // Updates carry the step's index: running then completed, step by step.
  std::vector<std::tuple<size_t, std::string, std::string>> expected = {
      {0, "running", "a"}, {0, "completed", "a"}, {1, "running", "b"}, {1, "completed", "b"}};
  EXPECT_EQ(updates_.seen, expected);
}

TEST_F(ChainedTest, ClientColumnsAreSelectedByName) {
  auto a = dir_.Add("a");
  json step = Step(1, "sum", "a", "client_data");
  step["columns"] = {"z", "x"};
  auto config = Parse({{"pipeline", {step}},
                       {"input_data", {{"columns", {"x", "y", "z"}}, {"rows", {{1, 2, 3}, {4, 5, 6}}}}}});
  auto result = Run(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(*a->tasks()[0].input_rows, Rows({{3, 1}, {6, 4}}));
  EXPECT_EQ((*result)["output_rows"], json({{4.0}, {10.0}}));
}

TEST_F(ChainedTest, DatasetRowsStayOnTheirNodeAndAreDerivedAgain) {
  auto a = dir_.Add("a", Rows({{1, 1}, {3, 3}}));
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "dataset:d"),
                                     Step(2, "add2", "a", "step_1_output"),
                                     Step(3, "sum", "a", "step_2_output")}}});
  auto result = Run(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(result->contains("output_rows"));
  EXPECT_DOUBLE_EQ((*result)["output"]["columns"][0]["mean"].get<double>(), 2 * (2 + 3));
  const auto tasks = a->tasks();
  ASSERT_EQ(tasks.size(), 3u);
  for (const auto& t : tasks) {
    EXPECT_FALSE(t.input_rows.has_value());
    EXPECT_EQ(t.dataset, "d");
  }
  EXPECT_TRUE(tasks[0].through.empty());
  EXPECT_THAT(tasks[1].through, ElementsAre("add1"));
  EXPECT_THAT(tasks[2].through, ElementsAre("add1", "add2"));
  EXPECT_EQ((*result)["pipeline_trace"][2]["output_shape"], json({2, 1}));
}

TEST_F(ChainedTest, FailFastStopsAtTheFirstFailureAndKeepsTheTrace) {
  dir_.Add("a");
  auto b = dir_.Add("b");
  b->FailNext(1);
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "client_data"),
                                     Step(2, "add1", "b", "step_1_output"),
                                     Step(3, "add1", "a", "step_2_output")}},
                       {"input_data", {{1}}}});
  auto result = Run(config);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.status().message(),
            "step 2 'step_2' failed on node 'b' after 1 attempt: node 'b': UNAVAILABLE: node down");
  ASSERT_TRUE(failed_.is_object());
  EXPECT_FALSE(failed_.contains("output"));
  const json& trace = failed_["pipeline_trace"];
  EXPECT_EQ(trace[0]["status"], "completed");
  EXPECT_EQ(trace[1]["status"], "failed");
  EXPECT_EQ(trace[1]["error"], "node 'b': UNAVAILABLE: node down");
  EXPECT_EQ(trace[2]["status"], "skipped");
  EXPECT_EQ(trace[2]["attempts"], 0);
  EXPECT_EQ(std::get<1>(updates_.seen.back()), "skipped");
}

TEST_F(ChainedTest, RetryRunsTheStepAgainUntilItSucceeds) {
  dir_.Add("a");
  auto b = dir_.Add("b");
  b->FailNext(2);
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "client_data"),
                                     Step(2, "add1", "b", "step_1_output")}},
                       {"input_data", {{1}}},
                       {"error_handling", {{"on_failure", "retry"}, {"max_retries", 2}}}});
  auto result = Run(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)["output_rows"], json({{3.0}}));
  const json& step2 = (*result)["pipeline_trace"][1];
  EXPECT_EQ(step2["attempts"], 3);
  EXPECT_EQ(step2["status"], "completed");
  EXPECT_EQ(step2["attempt_errors"].size(), 2u);
  EXPECT_EQ(b->tasks().size(), 3u);
  EXPECT_EQ(b->tasks()[2].job_id, "job-1.step2.try3");
}

TEST_F(ChainedTest, RetryGivesUpAfterMaxRetries) {
  dir_.Add("a");
  auto b = dir_.Add("b");
  b->FailNext(5);
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "client_data"),
                                     Step(2, "add1", "b", "step_1_output")}},
                       {"input_data", {{1}}},
                       {"error_handling", {{"on_failure", "retry"}, {"max_retries", 1}}}});
  auto result = Run(config);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("after 2 attempts"));
  EXPECT_EQ(failed_["pipeline_trace"][1]["attempts"], 2);
}

TEST_F(ChainedTest, FallbackNodeTakesOverAFailingStep) {
  dir_.Add("a");
  auto b = dir_.Add("b");
  auto c = dir_.Add("c");
  b->FailNext(100);
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "client_data"),
                                     Step(2, "add10", "b", "step_1_output")}},
                       {"input_data", {{1}}},
                       {"error_handling",
                        {{"on_failure", "retry"}, {"max_retries", 1}, {"fallback_nodes", {{"2", {"c"}}}}}}});
  auto result = Run(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)["output_rows"], json({{12.0}}));
  const json& step2 = (*result)["pipeline_trace"][1];
  EXPECT_EQ(step2["node_id"], "c");
  EXPECT_EQ(step2["attempts"], 2);
  EXPECT_THAT(step2["attempt_errors"][0].get<std::string>(), HasSubstr("node 'b'"));
  EXPECT_EQ(c->tasks().size(), 1u);
  EXPECT_EQ(*c->tasks()[0].input_rows, Rows({{2}}));
  EXPECT_EQ(updates_.seen.back(), std::make_tuple(size_t{1}, std::string("completed"), std::string("c")));
}

TEST_F(ChainedTest, RollbackRunsThePreviousStepAgainBeforeTheRetry) {
  auto a = dir_.Add("a");
  auto b = dir_.Add("b");
  b->FailNext(1);
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "client_data"),
                                     Step(2, "add1", "b", "step_1_output")}},
                       {"input_data", {{1}}},
                       {"error_handling", {{"on_failure", "rollback_and_retry"}, {"max_retries", 1}}}});
  auto result = Run(config);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(a->tasks().size(), 2u);
  EXPECT_EQ(a->tasks()[1].job_id, "job-1.step1.try2");
  EXPECT_EQ((*result)["pipeline_trace"][0]["attempts"], 2);
  EXPECT_EQ((*result)["pipeline_trace"][1]["attempts"], 2);
  EXPECT_EQ((*result)["output_rows"], json({{3.0}}));
}

TEST_F(ChainedTest, CancelStopsTheRunningStep) {
  dir_.Add("a")->Block();
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "client_data"),
                                     Step(2, "add1", "a", "step_1_output")}},
                       {"input_data", {{1}}},
                       {"error_handling", {{"on_failure", "retry"}, {"max_retries", 3}}}});
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    cancel_.Cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  auto result = Run(config);
  canceller.join();
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(failed_["pipeline_trace"][0]["status"], "cancelled");
  EXPECT_EQ(failed_["pipeline_trace"][1]["status"], "skipped");
}

TEST_F(ChainedTest, StepTimeoutNamesTheStep) {
  dir_.Add("a")->Block();
  json step = Step(1, "add1", "a", "client_data");
  step["name"] = "slow";
  step["timeout"] = 0.05;
  auto config = Parse({{"pipeline", {step}}, {"input_data", {{1}}}});
  auto result = Run(config);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "step 1 'slow' failed on node 'a' after 1 attempt: node 'a': DEADLINE_EXCEEDED: step 1 "
            "'slow' ran past its timeout of 50ms");
}

TEST_F(ChainedTest, JobTimeoutEndsThePipelineWhateverTheRetries) {
  dir_.Add("a")->Block();
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "client_data")}},
                       {"input_data", {{1}}},
                       {"timeout", 0.05},
                       {"error_handling", {{"on_failure", "retry"}, {"max_retries", 5}}}});
  auto result = Run(config);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(result.status().message(),
            "the job ran past its timeout of 50ms in step 1 'step_1' on node 'a'");
  EXPECT_EQ(failed_["pipeline_trace"][0]["attempts"], 1);
}

TEST(CheckChainedNodes, NamesTheStepOfAnUnknownNodeDatasetOrModel) {
  Directory dir;
  dir.described_ = true;
  dir.Add("a");
  auto config = Parse({{"pipeline", {Step(1, "add1", "a", "dataset:d"), Step(2, "add1", "x", "client_data")}},
                       {"input_data", {{1}}}});
  Status s = CheckChainedNodes(config, dir);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "$.pipeline[1].node_id: node 'x' not found (known nodes: a)");

  config = Parse({{"pipeline", {Step(1, "add1", "a", "dataset:e")}}});
  EXPECT_EQ(CheckChainedNodes(config, dir).message(),
            "$.pipeline[0].input_source: node 'a' has no dataset 'e' (it has: d)");
  config = Parse({{"pipeline", {Step(1, "nope", "a", "dataset:d")}}});
  EXPECT_EQ(CheckChainedNodes(config, dir).message(),
            "$.pipeline[0].model_id: model 'nope' not found on node 'a'");
  config = Parse({{"pipeline", {Step(1, "add1", "a", "dataset:d")}},
                  {"error_handling", {{"on_failure", "retry"}, {"fallback_nodes", {{"1", {"zz"}}}}}}});
  EXPECT_EQ(CheckChainedNodes(config, dir).message(),
            "$.error_handling.fallback_nodes['1'][0]: node 'zz' not found (known nodes: a)");
  config = Parse({{"pipeline", {Step(1, "add1", "a", "dataset:d")}}});
  EXPECT_TRUE(CheckChainedNodes(config, dir).ok());
}

}  // namespace
}  // namespace dim::core
