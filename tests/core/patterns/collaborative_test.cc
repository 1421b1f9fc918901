#include "core/patterns/collaborative.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/core/node/summary_node.h"

namespace dim::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

using Rows = std::vector<std::vector<double>>;

// The summary of these output rows, computed directly (two passes, no streaming).
Summary SummaryOf(const Rows& rows, bool classify) {
  Summary s;
  s.rows = static_cast<int64_t>(rows.size());
  if (rows.empty()) return s;
  const size_t width = rows[0].size();
  for (size_t c = 0; c < width; ++c) {
    ColumnSummary col;
    col.min = col.max = rows[0][c];
    for (const auto& r : rows) {
      col.mean += r[c];
      col.min = std::min(col.min, r[c]);
      col.max = std::max(col.max, r[c]);
    }
    col.mean /= static_cast<double>(rows.size());
    for (const auto& r : rows) col.variance += (r[c] - col.mean) * (r[c] - col.mean);
    col.variance /= static_cast<double>(rows.size());
    s.columns.push_back(col);
  }
  if (classify) {
    s.class_counts.assign(width, 0);
    for (const auto& r : rows) {
      ++s.class_counts[static_cast<size_t>(std::max_element(r.begin(), r.end()) - r.begin())];
    }
  }
  return s;
}

Rows Concat(std::initializer_list<Rows> parts) {
  Rows all;
  for (const auto& p : parts) all.insert(all.end(), p.begin(), p.end());
  return all;
}

// A node that answers with a given summary or error, or blocks until its task is cancelled.
class FakeNode final : public dim::testing::SummaryNode {
 public:
  // block: runs until cancelled; delay: answers after this long.
  explicit FakeNode(Result<Summary> answer, bool block = false,
                    std::chrono::milliseconds delay = 0ms)
      : answer_(std::move(answer)), block_(block), delay_(delay) {}

  Result<Summary> Answer(const NodeTask& task, const CancelToken& cancel,
                         std::chrono::milliseconds timeout) override {
    {
      std::lock_guard lock(mu_);
      tasks_.push_back(task);
      timeouts_.push_back(timeout);
    }
    if (block_) {
      const auto give_up = std::chrono::steady_clock::now() + 10s;
      while (!cancel.cancelled() && std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(1ms);
      }
      saw_cancel_ = cancel.cancelled();
      return Status::Cancelled("node task stopped");
    }
    std::this_thread::sleep_for(delay_);
    return answer_;
  }

  std::vector<NodeTask> tasks() {
    std::lock_guard lock(mu_);
    return tasks_;
  }
  std::vector<std::chrono::milliseconds> timeouts() {
    std::lock_guard lock(mu_);
    return timeouts_;
  }
  bool saw_cancel() const { return saw_cancel_; }

 private:
  Result<Summary> answer_;
  bool block_;
  std::chrono::milliseconds delay_;
  std::mutex mu_;
  std::vector<NodeTask> tasks_;
  std::vector<std::chrono::milliseconds> timeouts_;
  std::atomic<bool> saw_cancel_{false};
};

NodeDescription Described(const std::string& id, std::vector<std::string> datasets,
                          std::vector<std::string> models, bool active = true) {
  NodeDescription d;
  d.id = id;
  d.active = active;
  d.described = true;
  for (auto& name : datasets) {
    DatasetEntry e;
    e.name = std::move(name);
    d.datasets.push_back(std::move(e));
  }
  d.models = std::move(models);
  return d;
}

NodeDescription Undescribed(const std::string& id) {
  NodeDescription d;
  d.id = id;
  d.described = false;
  return d;
}

class FakeDirectory final : public NodeDirectory {
 public:
  void Add(NodeDescription description, std::shared_ptr<FakeNode> node = nullptr) {
    if (node != nullptr) nodes_[description.id] = std::move(node);
    descriptions_.push_back(std::move(description));
    std::sort(descriptions_.begin(), descriptions_.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  // A node that can be reached but has not described itself.
  void AddClient(const std::string& id, std::shared_ptr<FakeNode> node) {
    Add(Undescribed(id), std::move(node));
  }

  Result<std::shared_ptr<NodeClient>> Client(const std::string& node_id) override {
    auto it = nodes_.find(node_id);
    if (it == nodes_.end()) return Status::NotFound("node '" + node_id + "' not found");
    return std::shared_ptr<NodeClient>(it->second);
  }
  std::vector<NodeDescription> Describe() override { return descriptions_; }
  void RecordTaskOutcome(const std::string& node_id, const Status& status) override {
    outcomes_.emplace_back(node_id, status.code());
  }

  NodeDescription& Node(const std::string& id) {
    for (auto& d : descriptions_) {
      if (d.id == id) return d;
    }
    throw std::out_of_range(id);
  }
  const std::vector<std::pair<std::string, StatusCode>>& outcomes() const { return outcomes_; }

 private:
  std::map<std::string, std::shared_ptr<FakeNode>> nodes_;
  std::vector<NodeDescription> descriptions_;
  std::vector<std::pair<std::string, StatusCode>> outcomes_;
};

CollaborativeConfig Config(std::vector<std::string> nodes = {}) {
  CollaborativeConfig c;
  c.model_id = "heart_mlp";
  c.dataset = "cardio";
  c.nodes = std::move(nodes);
  return c;
}

// Every on_update call, in order.
class UpdateLog {
 public:
  NodeUpdateFn Fn() {
    return [this](size_t, const NodeTaskRecord& r) {
      std::lock_guard lock(mu_);
      records_.push_back(r);
    };
  }
  std::vector<NodeTaskRecord> For(const std::string& node_id) {
    std::lock_guard lock(mu_);
    std::vector<NodeTaskRecord> out;
    for (const auto& r : records_) {
      if (r.node_id == node_id) out.push_back(r);
    }
    return out;
  }
  std::vector<std::string> StatusesOf(const std::string& node_id) {
    std::vector<std::string> out;
    for (const auto& r : For(node_id)) out.push_back(std::string(TaskStateName(r.state)));
    return out;
  }

 private:
  std::mutex mu_;
  std::vector<NodeTaskRecord> records_;
};

// --- SelectCollaborativeNodes ---

// Selects nodes for config, expecting it to fail with `code`; returns the error message.
std::string SelectionError(const CollaborativeConfig& config, NodeDirectory& dir,
                           StatusCode code = StatusCode::kNotFound) {
  auto chosen = SelectCollaborativeNodes(config, dir);
  EXPECT_FALSE(chosen.ok()) << "the selection succeeded";
  EXPECT_EQ(chosen.status().code(), code);
  return chosen.status().message();
}

TEST(SelectCollaborativeNodes, KeepsExplicitNodesInTheirOrder) {
  FakeDirectory dir;
  dir.Add(Described("n1", {"cardio"}, {"heart_mlp"}));
  dir.Add(Described("n2", {"cardio", "other"}, {"heart_mlp", "x"}));
  dir.Add(Described("n3", {"cardio"}, {"heart_mlp"}));
  auto chosen = SelectCollaborativeNodes(Config({"n3", "n1"}), dir);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_THAT(*chosen, ElementsAre("n3", "n1"));
}

TEST(SelectCollaborativeNodes, UnknownExplicitNodeIsNotFoundWithItsPath) {
  FakeDirectory dir;
  dir.Add(Described("n1", {"cardio"}, {"heart_mlp"}));
  dir.Add(Described("n2", {"cardio"}, {"heart_mlp"}));
  EXPECT_EQ(SelectionError(Config({"n1", "ghost"}), dir),
            "$.nodes[1]: node 'ghost' not found (known nodes: n1, n2)");
}

TEST(SelectCollaborativeNodes, DescribedNodeWithoutTheDatasetIsNotFound) {
  FakeDirectory dir;
  dir.Add(Described("n1", {"cardio"}, {"heart_mlp"}));
  dir.Add(Described("n2", {"oncology", "renal"}, {"heart_mlp"}));
  const std::string error = SelectionError(Config({"n1", "n2"}), dir);
  EXPECT_THAT(error, StartsWith("$.dataset: "));
  EXPECT_THAT(error, HasSubstr("'n2'"));
  EXPECT_THAT(error, HasSubstr("'cardio'"));
  EXPECT_THAT(error, HasSubstr("oncology, renal"));
}

TEST(SelectCollaborativeNodes, DescribedNodeWithoutTheModelIsNotFound) {
  FakeDirectory dir;
  dir.Add(Described("n1", {"cardio"}, {"heart_risk"}));
  const std::string error = SelectionError(Config({"n1"}), dir);
  EXPECT_THAT(error, StartsWith("$.model_id: "));
  EXPECT_THAT(error, HasSubstr("'heart_mlp'"));
  EXPECT_THAT(error, HasSubstr("'n1'"));
}

TEST(SelectCollaborativeNodes, ListedNodeThatHasNotDescribedItselfIsTrusted) {
  FakeDirectory dir;
  dir.Add(Undescribed("remote"));
  auto chosen = SelectCollaborativeNodes(Config({"remote"}), dir);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_THAT(*chosen, ElementsAre("remote"));
}

TEST(SelectCollaborativeNodes, DefaultDatasetIsAnyDatasetOfTheNode) {
  FakeDirectory dir;
  dir.Add(Described("n1", {"cardio"}, {"heart_mlp"}));
  dir.Add(Described("n2", {}, {"heart_mlp"}));
  CollaborativeConfig config = Config({"n1"});
  config.dataset = "default";
  auto chosen = SelectCollaborativeNodes(config, dir);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();

  config.nodes = {"n2"};  // no dataset at all
  EXPECT_THAT(SelectionError(config, dir), HasSubstr("it has: none"));
}

TEST(SelectCollaborativeNodes, AutoSelectsActiveNodesHoldingDatasetAndModel) {
  FakeDirectory dir;
  dir.Add(Described("a-ok", {"cardio"}, {"heart_mlp"}));
  dir.Add(Described("b-inactive", {"cardio"}, {"heart_mlp"}, /*active=*/false));
  dir.Add(Described("c-no-model", {"cardio"}, {"heart_risk"}));
  dir.Add(Described("d-no-data", {"renal"}, {"heart_mlp"}));
  dir.Add(Undescribed("e-unknown"));
  dir.Add(Described("f-ok", {"renal", "cardio"}, {"x", "heart_mlp"}));
  auto chosen = SelectCollaborativeNodes(Config(), dir);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_THAT(*chosen, ElementsAre("a-ok", "f-ok"));
}

TEST(SelectCollaborativeNodes, AutoSelectionKeepsNodesWithEveryLabel) {
  FakeDirectory dir;
  for (const char* id : {"eu-gpu", "eu-cpu", "us-gpu", "bare"}) {
    dir.Add(Described(id, {"cardio"}, {"heart_mlp"}));
  }
  dir.Node("eu-gpu").labels = {{"region", "eu"}, {"gpu", "yes"}};
  dir.Node("eu-cpu").labels = {{"region", "eu"}};
  dir.Node("us-gpu").labels = {{"region", "us"}, {"gpu", "yes"}};
  CollaborativeConfig config = Config();
  config.labels = {{"region", "eu"}};
  auto chosen = SelectCollaborativeNodes(config, dir);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_THAT(*chosen, ElementsAre("eu-cpu", "eu-gpu"));
  config.labels = {{"region", "eu"}, {"gpu", "yes"}};
  chosen = SelectCollaborativeNodes(config, dir);
  ASSERT_TRUE(chosen.ok());
  EXPECT_THAT(*chosen, ElementsAre("eu-gpu"));
  config.labels = {{"region", "mars"}};
  EXPECT_EQ(SelectionError(config, dir),
            "$.labels: none of the nodes that could run this job (bare, eu-cpu, eu-gpu, us-gpu) "
            "has region=mars");
}

TEST(SelectCollaborativeNodes, AutoSelectionDropsNodesBelowReputationMin) {
  FakeDirectory dir;
  dir.Add(Described("good", {"cardio"}, {"heart_mlp"}));
  dir.Add(Described("flaky", {"cardio"}, {"heart_mlp"}));
  dir.Add(Described("other-data", {"renal"}, {"heart_mlp"}));
  dir.Node("flaky").reputation = 0.4;
  dir.Node("other-data").reputation = 0.1;
  CollaborativeConfig config = Config();
  config.reputation_min = 0.5;
  auto chosen = SelectCollaborativeNodes(config, dir);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_THAT(*chosen, ElementsAre("good"));
  config.reputation_min = 0.4;  // inclusive
  chosen = SelectCollaborativeNodes(config, dir);
  ASSERT_TRUE(chosen.ok());
  EXPECT_THAT(*chosen, ElementsAre("flaky", "good"));
  dir.Node("good").reputation = 0.3;
  config.reputation_min = 0.5;
  EXPECT_EQ(SelectionError(config, dir),
            "$.reputation_min: none of the nodes that could run this job (flaky, good) has a "
            "reputation of 0.5 or more");
}

TEST(SelectCollaborativeNodes, MaxNodesTakesTheNodesWithMostFreeSlots) {
  FakeDirectory dir;
  for (const char* id : {"busy", "idle", "half", "idle-flaky"}) {
    dir.Add(Described(id, {"cardio"}, {"heart_mlp"}));
    dir.Node(id).max_concurrent_jobs = 4;
  }
  dir.Node("busy").active_jobs = 4;
  dir.Node("busy").queued_jobs = 3;  // 7 tasks for 4 slots: -3 free
  dir.Node("half").active_jobs = 2;
  dir.Node("idle-flaky").reputation = 0.6;  // as free as "idle", less reliable
  CollaborativeConfig config = Config();
  config.max_nodes = 2;
  auto chosen = SelectCollaborativeNodes(config, dir);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_THAT(*chosen, ElementsAre("idle", "idle-flaky"));
  config.max_nodes = 3;
  chosen = SelectCollaborativeNodes(config, dir);
  ASSERT_TRUE(chosen.ok());
  EXPECT_THAT(*chosen, ElementsAre("half", "idle", "idle-flaky"));
  config.max_nodes = 1;
  dir.Node("idle").queued_jobs = 1;
  chosen = SelectCollaborativeNodes(config, dir);
  ASSERT_TRUE(chosen.ok());
  EXPECT_THAT(*chosen, ElementsAre("idle-flaky"));
  config.max_nodes = 0;  // no limit: every node, however busy
  chosen = SelectCollaborativeNodes(config, dir);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(chosen->size(), 4u);
}

TEST(SelectCollaborativeNodes, NoActiveNodeWithTheDatasetIsNotFound) {
  FakeDirectory dir;
  dir.Add(Described("n1", {"renal"}, {"heart_mlp"}));
  dir.Add(Described("n2", {"cardio"}, {"heart_mlp"}, /*active=*/false));
  dir.Add(Undescribed("n3"));
  EXPECT_EQ(SelectionError(Config(), dir), "$.dataset: no active node holds dataset 'cardio'");

  FakeDirectory empty;
  EXPECT_THAT(SelectionError(Config(), empty), StartsWith("$.dataset: "));
}

TEST(SelectCollaborativeNodes, NoNodeWithDatasetAndModelIsNotFoundNamingThoseNodes) {
  FakeDirectory dir;
  dir.Add(Described("n1", {"cardio"}, {"heart_risk"}));
  dir.Add(Described("n2", {"renal"}, {"heart_mlp"}));
  dir.Add(Described("n3", {"cardio"}, {}));
  const std::string error = SelectionError(Config(), dir);
  EXPECT_THAT(error, StartsWith("$.model_id: "));
  EXPECT_THAT(error, HasSubstr("'heart_mlp'"));
  EXPECT_THAT(error, HasSubstr("(n1, n3)"));
}

TEST(SelectCollaborativeNodes, MinNodesAboveTheNodeCountIsInvalidArgument) {
  FakeDirectory dir;
  dir.Add(Described("n1", {"cardio"}, {"heart_mlp"}));
  dir.Add(Described("n2", {"cardio"}, {"heart_mlp"}));
  CollaborativeConfig config = Config();
  config.min_nodes = 2;
  EXPECT_TRUE(SelectCollaborativeNodes(config, dir).ok());
  config.min_nodes = 3;
  EXPECT_THAT(SelectionError(config, dir, StatusCode::kInvalidArgument),
              StartsWith("$.min_nodes: 3"));

  config.nodes = {"n1"};
  config.min_nodes = 2;
  EXPECT_EQ(SelectCollaborativeNodes(config, dir).status().code(), StatusCode::kInvalidArgument);
}

// --- RunCollaborative ---

const Rows kRowsA = {{0.7, 0.2, 0.1}, {0.1, 0.8, 0.1}, {0.6, 0.3, 0.1}};
const Rows kRowsB = {{0.2, 0.2, 0.6}, {0.9, 0.05, 0.05}};
const Rows kRowsC = {{0.3, 0.4, 0.3}, {0.25, 0.25, 0.5}, {0.5, 0.4, 0.1}, {0.05, 0.9, 0.05}};

struct Nodes {
  FakeDirectory dir;
  std::shared_ptr<FakeNode> a, b, c;
};

// Three nodes: a and c answer with their rows' summaries; b as given.
std::unique_ptr<Nodes> ThreeNodes(std::shared_ptr<FakeNode> b) {
  auto n = std::make_unique<Nodes>();
  n->a = std::make_shared<FakeNode>(SummaryOf(kRowsA, true));
  n->b = std::move(b);
  n->c = std::make_shared<FakeNode>(SummaryOf(kRowsC, true));
  n->dir.AddClient("a", n->a);
  n->dir.AddClient("b", n->b);
  n->dir.AddClient("c", n->c);
  return n;
}

// A RunCollaborative call over config.nodes, with its own cancel token, clock and log.
struct CollaborativeRun {
  Result<nlohmann::json> Run(const CollaborativeConfig& config, NodeDirectory& dir,
                             const std::string& job_id = "job-1") {
    return RunCollaborative(job_id, config, config.nodes, dir, cancel, clock, log.Fn());
  }

  CancelToken cancel;
  SystemClock clock;
  UpdateLog log;
};

void ExpectAggregateIs(const nlohmann::json& aggregate, const Summary& want) {
  ASSERT_TRUE(aggregate.is_object()) << aggregate.dump();
  EXPECT_EQ(aggregate["rows"], want.rows);
  ASSERT_EQ(aggregate["columns"].size(), want.columns.size()) << aggregate.dump();
  for (size_t c = 0; c < want.columns.size(); ++c) {
    const auto& col = aggregate["columns"][c];
    EXPECT_NEAR(col["mean"].get<double>(), want.columns[c].mean, 1e-12) << c;
    EXPECT_NEAR(col["variance"].get<double>(), want.columns[c].variance, 1e-12) << c;
    EXPECT_NEAR(col["std"].get<double>(), std::sqrt(want.columns[c].variance), 1e-12) << c;
    EXPECT_DOUBLE_EQ(col["min"].get<double>(), want.columns[c].min) << c;
    EXPECT_DOUBLE_EQ(col["max"].get<double>(), want.columns[c].max) << c;
  }
  EXPECT_EQ(aggregate["class_counts"].get<std::vector<int64_t>>(), want.class_counts);
}

TEST(RunCollaborative, AggregateEqualsTheSummaryOfThePooledRows) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(SummaryOf(kRowsB, true)));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.columns = {"age", "bmi"};
  config.task = "classification";
  config.timeout_seconds = 30;
  CollaborativeRun run;
  auto result = run.Run(config, n->dir, "job-7");
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  const nlohmann::json& r = *result;
  EXPECT_EQ(r["pattern"], "collaborative");
  EXPECT_EQ(r["model_id"], "heart_mlp");
  EXPECT_EQ(r["dataset"], "cardio");
  EXPECT_EQ(r["aggregation_method"], "federated_averaging");

  const Summary pooled = SummaryOf(Concat({kRowsA, kRowsB, kRowsC}), true);
  ASSERT_EQ(pooled.rows, 9);
  ASSERT_EQ(pooled.class_counts, (std::vector<int64_t>{4, 3, 2}));
  ExpectAggregateIs(r["aggregate"], pooled);
  EXPECT_EQ(r["aggregate"]["nodes_used"], 3);

  ASSERT_EQ(r["nodes"].size(), 3u);
  const char* ids[] = {"a", "b", "c"};
  const int64_t rows[] = {3, 2, 4};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r["nodes"][i]["node_id"], ids[i]);
    EXPECT_EQ(r["nodes"][i]["status"], "completed");
    EXPECT_EQ(r["nodes"][i]["summary"]["rows"], rows[i]);
    EXPECT_FALSE(r["nodes"][i].contains("error"));
  }

  // Each node got the job's task, once, with the job's time limit.
  for (const auto& node : {n->a, n->b, n->c}) {
    auto tasks = node->tasks();
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0].job_id, "job-7");
    EXPECT_EQ(tasks[0].model_id, "heart_mlp");
    EXPECT_EQ(tasks[0].dataset, "cardio");
    EXPECT_THAT(tasks[0].columns, ElementsAre("age", "bmi"));
    EXPECT_EQ(tasks[0].task, "classification");
    EXPECT_THAT(node->timeouts(), ElementsAre(30s));
  }
}

TEST(RunCollaborative, FailingNodeIsDroppedWhileTheQuorumHolds) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(Status::Unavailable("node down")));
  n->dir.Add(Undescribed("gone"));  // listed but no client: NOT_FOUND at run time
  CollaborativeConfig config = Config({"a", "b", "c", "gone"});
  config.min_nodes = 2;
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ExpectAggregateIs((*result)["aggregate"], SummaryOf(Concat({kRowsA, kRowsC}), true));
  EXPECT_EQ((*result)["aggregate"]["nodes_used"], 2);

  const auto& nodes = (*result)["nodes"];
  ASSERT_EQ(nodes.size(), 4u);
  EXPECT_EQ(nodes[1]["node_id"], "b");
  EXPECT_EQ(nodes[1]["status"], "failed");
  EXPECT_EQ(nodes[1]["error"], "UNAVAILABLE: node down");
  EXPECT_FALSE(nodes[1].contains("summary"));
  EXPECT_EQ(nodes[3]["node_id"], "gone");
  EXPECT_EQ(nodes[3]["status"], "failed");
  EXPECT_THAT(nodes[3]["error"].get<std::string>(), HasSubstr("NOT_FOUND"));
  EXPECT_EQ(nodes[0]["status"], "completed");
  EXPECT_EQ(nodes[2]["status"], "completed");
}

// Node means of column 0 (hand-checked): a (0.7+0.1+0.6)/3 = 0.4666..., b (0.2+0.9)/2 = 0.55,
// c (0.3+0.25+0.5+0.05)/4 = 0.275.
double Col0Mean(const nlohmann::json& result) {
  return result["aggregate"]["columns"][0]["mean"].get<double>();
}

TEST(RunCollaborative, MedianIsTheMiddleNodeMean) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(SummaryOf(kRowsB, true)));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.aggregation_method = "median";
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)["aggregation_method"], "median");
  EXPECT_NEAR(Col0Mean(*result), 1.4 / 3, 1e-12);
  const auto& agg = (*result)["aggregate"];
  EXPECT_EQ(agg["rows"], 9);
  EXPECT_EQ(agg["nodes_used"], 3);
  EXPECT_EQ(agg["class_counts"], nlohmann::json::parse("[4, 3, 2]"));
  EXPECT_DOUBLE_EQ(agg["columns"][0]["min"].get<double>(), 0.05);
  EXPECT_DOUBLE_EQ(agg["columns"][0]["max"].get<double>(), 0.9);
  EXPECT_EQ((*result)["nodes"].size(), 3u);
}

TEST(RunCollaborative, MedianOfTwoNodesAfterOneFailsIsTheirMidpoint) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(Status::Unavailable("node down")));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.aggregation_method = "median";
  config.min_nodes = 2;
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_NEAR(Col0Mean(*result), (1.4 / 3 + 0.275) / 2, 1e-12);
  EXPECT_EQ((*result)["aggregate"]["nodes_used"], 2);
  EXPECT_EQ((*result)["nodes"][1]["error"], "UNAVAILABLE: node down");
}

TEST(RunCollaborative, TrimmedMeanDropsTheExtremeNodes) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(SummaryOf(kRowsB, true)));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.aggregation_method = "trimmed_mean";
  config.trim = 0.34;  // floor(0.34 * 3) = 1 from each end: the median
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_NEAR(Col0Mean(*result), 1.4 / 3, 1e-12);
  EXPECT_EQ((*result)["trim"], 0.34);
  EXPECT_EQ((*result)["trimmed_per_end"], 1);
  config.trim = 0.2;  // floor(0.6) = 0: the plain mean of the node means
  CollaborativeRun run2;
  result = run2.Run(config, n->dir);
  ASSERT_TRUE(result.ok());
  EXPECT_NEAR(Col0Mean(*result), (1.4 / 3 + 0.55 + 0.275) / 3, 1e-12);
  EXPECT_EQ((*result)["trimmed_per_end"], 0);
}

TEST(RunCollaborative, WeightedAverageUsesConfigWeightsOrEqualReputation) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(SummaryOf(kRowsB, true)));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.aggregation_method = "weighted_average";
  config.weights = {{"a", 1}, {"b", 0}, {"c", 3}};
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_NEAR(Col0Mean(*result), 0.25 * 1.4 / 3 + 0.75 * 0.275, 1e-12);
  EXPECT_EQ((*result)["weights_source"], "config");
  EXPECT_EQ((*result)["weights"], nlohmann::json::parse(R"({"a": 0.25, "b": 0.0, "c": 0.75})"));
  // Weights proportional to rows give exactly the pooled figures.
  config.weights = {{"a", 3}, {"b", 2}, {"c", 4}};
  CollaborativeRun run2;
  result = run2.Run(config, n->dir);
  ASSERT_TRUE(result.ok());
  ExpectAggregateIs((*result)["aggregate"], SummaryOf(Concat({kRowsA, kRowsB, kRowsC}), true));
  // Without weights: each node's reputation, equal for new nodes.
  config.weights.clear();
  CollaborativeRun run3;
  result = run3.Run(config, n->dir);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ((*result)["weights_source"], "reputation");
  EXPECT_NEAR(Col0Mean(*result), (1.4 / 3 + 0.55 + 0.275) / 3, 1e-12);
  n->dir.Node("a").reputation = 0.5;
  n->dir.Node("c").reputation = 0.25;
  CollaborativeRun run4;
  result = run4.Run(config, n->dir);
  ASSERT_TRUE(result.ok());
  EXPECT_NEAR(Col0Mean(*result), (0.5 * 1.4 / 3 + 1.0 * 0.55 + 0.25 * 0.275) / 1.75, 1e-12);
  EXPECT_EQ((*result)["weights"], nlohmann::json::parse(R"({"a": 0.2857142857142857,
      "b": 0.5714285714285714, "c": 0.14285714285714285})"));
}

TEST(RunCollaborative, TellsTheDirectoryHowEachNodeTaskEnded) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(Status::Unavailable("node down")));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.min_nodes = 2;
  CollaborativeRun run;
  ASSERT_TRUE(run.Run(config, n->dir).ok());
  EXPECT_THAT(n->dir.outcomes(),
              ElementsAre(std::pair<std::string, StatusCode>("a", StatusCode::kOk),
                          std::pair<std::string, StatusCode>("b", StatusCode::kUnavailable),
                          std::pair<std::string, StatusCode>("c", StatusCode::kOk)));
}

TEST(NodeReputation, MovesATenthOfTheWayAndIgnoresTheJobsOwnErrors) {
  EXPECT_DOUBLE_EQ(NextReputation(1.0, Status::Unavailable("gone")), 0.9);
  EXPECT_DOUBLE_EQ(NextReputation(0.9, Status::DeadlineExceeded("slow")), 0.81);
  EXPECT_DOUBLE_EQ(NextReputation(0.5, Status::Ok()), 0.55);
  EXPECT_DOUBLE_EQ(NextReputation(0.5, Status::Internal("bug")), 0.45);
  for (const Status& s : {Status::InvalidArgument("bad column"), Status::NotFound("no model"),
                          Status::FailedPrecondition("min_samples"), Status::Cancelled("stop"),
                          Status::ResourceExhausted("queue full")}) {
    EXPECT_FALSE(CountsAgainstNode(s)) << s.ToString();
    EXPECT_DOUBLE_EQ(NextReputation(0.7, s), 0.7) << s.ToString();
  }
  double r = 1.0;
  for (int i = 0; i < 10; ++i) r = NextReputation(r, Status::Unavailable("gone"));
  EXPECT_NEAR(r, std::pow(0.9, 10), 1e-12);
}

TEST(RunCollaborative, WeightedAverageWhoseSurvivorsWeighNothingFails) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(Status::Unavailable("node down")));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.aggregation_method = "weighted_average";
  config.weights = {{"a", 0}, {"b", 1}, {"c", 0}};
  config.min_nodes = 2;
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("(a, c) has weight 0"));
}

TEST(RunCollaborative, DifferentialPrivacyGoesToTheNodesAndIntoTheResult) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(SummaryOf(kRowsB, true)));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.differential_privacy = DifferentialPrivacy{.epsilon = 2, .clip_lo = 0, .clip_hi = 1};
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ((*result)["differential_privacy"],
            nlohmann::json::parse(R"({"epsilon": 2.0, "clip": [0.0, 1.0]})"));
  for (const auto& node : {n->a, n->b, n->c}) {
    ASSERT_EQ(node->tasks().size(), 1u);
    ASSERT_TRUE(node->tasks()[0].differential_privacy.has_value());
    EXPECT_EQ(node->tasks()[0].differential_privacy->epsilon, 2.0);
  }
}

TEST(SelectCollaborativeNodes, WeightsMustCoverTheChosenNodes) {
  FakeDirectory dir;
  dir.Add(Described("n1", {"cardio"}, {"heart_mlp"}));
  dir.Add(Described("n2", {"cardio"}, {"heart_mlp"}));
  CollaborativeConfig config = Config();
  config.aggregation_method = "weighted_average";
  config.weights = {{"n1", 1}, {"n2", 2}};
  EXPECT_TRUE(SelectCollaborativeNodes(config, dir).ok());
  config.weights = {{"n1", 1}};
  EXPECT_EQ(SelectionError(config, dir, StatusCode::kInvalidArgument),
            "$.aggregation.weights: no weight for node 'n2' (nodes chosen: n1, n2)");
  config.weights = {{"n1", 1}, {"n2", 2}, {"n3", 1}};
  EXPECT_EQ(SelectionError(config, dir, StatusCode::kInvalidArgument),
            "$.aggregation.weights.n3: node 'n3' is not among the nodes chosen (n1, n2)");
}

TEST(RunCollaborative, BrokenQuorumIsFailedPreconditionNamingTheFailedNode) {
  // b fails after a and c succeeded (a failure first would stop them: see the quorum tests).
  auto n = ThreeNodes(std::make_shared<FakeNode>(Status::Unavailable("node down"),
                                                 /*block=*/false, 100ms));
  CollaborativeConfig config = Config({"a", "b", "c"});  // min_nodes 0: every node
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("2 of 3"));
  EXPECT_THAT(result.status().message(), HasSubstr("b: UNAVAILABLE: node down"));
  EXPECT_THAT(result.status().message(), Not(HasSubstr("a:")));
}

TEST(RunCollaborative, NodePastTheTimeoutIsDroppedWithDeadlineExceeded) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(Summary{}, /*block=*/true));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.min_nodes = 2;
  config.timeout_seconds = 0.1;
  CollaborativeRun run;
  const auto start = std::chrono::steady_clock::now();
  auto result = run.Run(config, n->dir);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_GE(took, 100ms);
  EXPECT_LT(took, 3s);
  const auto& b = (*result)["nodes"][1];
  EXPECT_EQ(b["status"], "failed");
  EXPECT_THAT(b["error"].get<std::string>(), StartsWith("DEADLINE_EXCEEDED"));
  EXPECT_EQ((*result)["aggregate"]["nodes_used"], 2);
  EXPECT_TRUE(n->b->saw_cancel());  // the node was told to stop
  EXPECT_THAT(n->b->timeouts(), ElementsAre(100ms));

  auto updates = run.log.For("b");
  ASSERT_EQ(updates.size(), 2u);
  EXPECT_EQ(updates[1].state, TaskState::kFailed);
  EXPECT_EQ(updates[1].error.code(), StatusCode::kDeadlineExceeded);
}

TEST(RunCollaborative, TimeoutThatBreaksTheQuorumFailsTheJob) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(Summary{}, /*block=*/true));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.timeout_seconds = 0.05;
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("b: DEADLINE_EXCEEDED"));
}

TEST(RunCollaborative, CancelStopsEveryNodeTask) {
  FakeDirectory dir;
  auto a = std::make_shared<FakeNode>(Summary{}, /*block=*/true);
  auto b = std::make_shared<FakeNode>(Summary{}, /*block=*/true);
  dir.AddClient("a", a);
  dir.AddClient("b", b);
  CollaborativeConfig config = Config({"a", "b"});
  CollaborativeRun run;
  std::thread canceller([&] {
    std::this_thread::sleep_for(50ms);
    run.cancel.Cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  auto result = run.Run(config, dir);
  const auto took = std::chrono::steady_clock::now() - start;
  canceller.join();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
  EXPECT_LT(took, 1s);
  EXPECT_TRUE(a->saw_cancel());
  EXPECT_TRUE(b->saw_cancel());
  EXPECT_THAT(run.log.StatusesOf("a"), ElementsAre("running", "cancelled"));
  EXPECT_THAT(run.log.StatusesOf("b"), ElementsAre("running", "cancelled"));
}

TEST(RunCollaborative, CancelWinsOverNodesThatAlreadySucceeded) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(SummaryOf(kRowsB, true)));
  CollaborativeConfig config = Config({"a", "b", "c"});
  CollaborativeRun run;
  run.cancel.Cancel();
  auto result = run.Run(config, n->dir);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
}

TEST(RunCollaborative, ReportsRunningThenTheFinalStateOfEachNode) {
  auto n = ThreeNodes(std::make_shared<FakeNode>(Status::Internal("model crashed")));
  CollaborativeConfig config = Config({"a", "b", "c"});
  config.min_nodes = 1;
  CollaborativeRun run;
  auto result = run.Run(config, n->dir);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_THAT(run.log.StatusesOf("a"), ElementsAre("running", "completed"));
  EXPECT_THAT(run.log.StatusesOf("b"), ElementsAre("running", "failed"));
  EXPECT_THAT(run.log.StatusesOf("c"), ElementsAre("running", "completed"));
  for (const char* id : {"a", "b", "c"}) {
    auto updates = run.log.For(id);
    ASSERT_EQ(updates.size(), 2u);
    EXPECT_FALSE(updates[0].started_at.empty());
    EXPECT_TRUE(updates[0].completed_at.empty());
    EXPECT_EQ(updates[1].started_at, updates[0].started_at);
    EXPECT_FALSE(updates[1].completed_at.empty());
    EXPECT_GE(updates[1].execution_seconds, 0);
  }
  EXPECT_EQ(run.log.For("b")[1].error.ToString(), "INTERNAL: model crashed");
  EXPECT_TRUE(run.log.For("a")[1].error.ok());
}

TEST(RunCollaborative, UpdatesAreNeverDeliveredConcurrently) {
  // Nodes answer at once while the "running" update of the next node is still being
  // handled: the header promises the calls are serialised.
  auto n = ThreeNodes(std::make_shared<FakeNode>(SummaryOf(kRowsB, true)));
  CollaborativeConfig config = Config({"a", "b", "c"});
  CancelToken cancel;
  SystemClock clock;
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  NodeUpdateFn on_update = [&](size_t, const NodeTaskRecord& r) {
    if (inside.fetch_add(1) != 0) overlapped = true;
    if (r.state == TaskState::kRunning) std::this_thread::sleep_for(20ms);
    inside.fetch_sub(1);
  };
  auto result = RunCollaborative("job-1", config, config.nodes, n->dir, cancel, clock, on_update);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_FALSE(overlapped);
}

}  // namespace
}  // namespace dim::core
