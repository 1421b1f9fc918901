#include "core/engine/job_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/infer/model.h"
#include "core/node/in_process_node.h"
#include "core/node/task_runner.h"
#include "tests/core/node/summary_node.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

using dim::testing::ExampleDataFile;
using dim::testing::ExampleModelsDir;

// A node whose tasks wait (until released or cancelled) while it holds them, and that
// records the order in which tasks reached it.
class ScriptedNode final : public dim::testing::SummaryNode {
 public:
  explicit ScriptedNode(Result<Summary> answer) : answer_(std::move(answer)) {}

  Result<Summary> Answer(const NodeTask& task, const CancelToken& cancel,
                         std::chrono::milliseconds /*timeout*/) override {
    std::unique_lock lock(mu_);
    started_.push_back(task.job_id);
    priorities_[task.job_id] = task.priority;
    cv_.notify_all();
    const auto give_up = std::chrono::steady_clock::now() + 10s;
    while (hold_ && !cancel.cancelled() && std::chrono::steady_clock::now() < give_up) {
      cv_.wait_for(lock, 1ms);
    }
    if (cancel.cancelled()) {
      cancelled_.insert(task.job_id);
      return Status::Cancelled("node task stopped");
    }
    return answer_;
  }

  void Hold(bool hold) {
    std::lock_guard lock(mu_);
    hold_ = hold;
    cv_.notify_all();
  }
  // Blocks until the job's task reached the node; false after 5 s.
  bool WaitStarted(const std::string& job_id) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 5s, [&] {
      return std::find(started_.begin(), started_.end(), job_id) != started_.end();
    });
  }
  std::vector<std::string> started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  Priority PriorityOf(const std::string& job_id) {
    std::lock_guard lock(mu_);
    auto it = priorities_.find(job_id);
    return it == priorities_.end() ? Priority::kUnspecified : it->second;
  }
  bool WasCancelled(const std::string& job_id) {
    std::lock_guard lock(mu_);
    return cancelled_.count(job_id) > 0;
  }

 private:
  Result<Summary> answer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  std::vector<std::string> started_;
  std::map<std::string, Priority> priorities_;
  std::set<std::string> cancelled_;
};

// One described node "n1" holding dataset "default" and models "m" and "m2".
class OneNodeDirectory final : public NodeDirectory {
 public:
  explicit OneNodeDirectory(std::shared_ptr<ScriptedNode> node) : node_(std::move(node)) {}
  Result<std::shared_ptr<NodeClient>> Client(const std::string& node_id) override {
    if (node_id != "n1") return Status::NotFound("node '" + node_id + "' not found");
    return std::shared_ptr<NodeClient>(node_);
  }
  std::vector<NodeDescription> Describe() override {
    NodeDescription d;
    d.id = "n1";
    d.described = true;
    DatasetEntry e;
    e.name = "default";
    d.datasets = {e};
    d.models = {"m", "m2"};
    return {d};
  }

 private:
  std::shared_ptr<ScriptedNode> node_;
};

Summary SmallSummary() {
  Summary s;
  s.rows = 5;
  s.columns = {ColumnSummary{0.5, 0.01, 0.4, 0.6}};
  return s;
}

constexpr char kConfig[] = R"({"model_id":"m","nodes":["n1"]})";

SubmitRequest Collaborative(const std::string& config = kConfig,
                            Priority priority = Priority::kNormal) {
  SubmitRequest r;
  r.user_id = "alice";
  r.pattern = Pattern::kCollaborative;
  r.config_json = config;
  r.priority = priority;
  return r;
}

std::unique_ptr<JobStore> MemoryStore() {
  auto store = JobStore::Open(":memory:");
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

// A scripted node behind a fresh in-memory store.
class JobServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(store_, nullptr); }

  std::unique_ptr<JobService> StartService(JobServiceOptions options = {}) {
    auto service = std::make_unique<JobService>(*store_, directory_, clock_, options);
    EXPECT_TRUE(service->Start().ok());
    return service;
  }

  std::string SubmitOrDie(JobService& service, Priority priority = Priority::kNormal) {
    auto job = service.Submit(Collaborative(kConfig, priority));
    EXPECT_TRUE(job.ok()) << job.status().ToString();
    return job.ok() ? job->id : "";
  }

  std::unique_ptr<JobStore> store_ = MemoryStore();
  std::shared_ptr<ScriptedNode> node_ = std::make_shared<ScriptedNode>(SmallSummary());
  OneNodeDirectory directory_{node_};
  SystemClock clock_;
};

TEST_F(JobServiceTest, SubmittedJobRunsToCompletionOnInProcessNodes) {
  auto models = std::make_shared<ModelRepository>(ExampleModelsDir());
  ASSERT_THAT(models->List(),
              ElementsAre("heart_mlp", "heart_mlp_v2", "heart_mlp_v3", "heart_risk", "heart_score"))
      << "set DIM_SOURCE_ROOT to the source tree";
  InProcessDirectory directory;
  int64_t want_rows = 0;
  std::vector<int64_t> want_counts(3, 0);
  for (const char* h : {"a", "b", "c"}) {
    DatasetCatalog datasets;
    const std::string name = std::string("hospital_").append(h);
    ASSERT_TRUE(datasets.Add(name, ExampleDataFile(name + ".csv")).ok());
    NodeTask task;
    task.job_id = "reference";
    task.model_id = "heart_mlp";
    CancelToken cancel;
    auto own = RunSummaryTask(*models, datasets, task, cancel);
    ASSERT_TRUE(own.ok()) << own.status().ToString();
    want_rows += own->rows;
    for (size_t k = 0; k < 3; ++k) want_counts[k] += own->class_counts[k];
    const std::string id = std::string("node-").append(h);
    ASSERT_TRUE(
        directory.Add(id, std::make_shared<InProcessNode>(id, models, std::move(datasets))).ok());
  }
  ASSERT_EQ(want_rows, 240 + 180 + 300);

  auto store = MemoryStore();
  ASSERT_NE(store, nullptr);
  SystemClock clock;
  JobService service(*store, directory, clock, {.workers = 2});
  ASSERT_TRUE(service.Start().ok());

  auto submitted = service.Submit(Collaborative(R"({"modelId":"heart_mlp"})"));
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_THAT(submitted->id, StartsWith("job-"));
  EXPECT_EQ(submitted->state, JobState::kPending);
  EXPECT_EQ(submitted->user_id, "alice");
  EXPECT_EQ(submitted->total_steps, 3);
  ASSERT_EQ(submitted->nodes.size(), 3u);
  EXPECT_EQ(submitted->nodes[0].node_id, "node-a");
  EXPECT_EQ(submitted->nodes[0].state, TaskState::kPending);
  EXPECT_FALSE(submitted->created_at.empty());

  auto done = service.Wait(submitted->id, 20s);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->state, JobState::kCompleted) << done->error;
  EXPECT_TRUE(done->error.empty());
  EXPECT_EQ(done->completed_steps, 3);
  EXPECT_FALSE(done->started_at.empty());
  EXPECT_FALSE(done->completed_at.empty());
  for (const auto& n : done->nodes) EXPECT_EQ(n.state, TaskState::kCompleted) << n.node_id;

  auto result = nlohmann::json::parse(done->result_json, nullptr, false);
  ASSERT_TRUE(result.is_object()) << done->result_json;
  EXPECT_EQ(result["pattern"], "collaborative");
  EXPECT_EQ(result["aggregate"]["rows"], want_rows);
  EXPECT_EQ(result["aggregate"]["nodes_used"], 3);
  EXPECT_EQ(result["aggregate"]["class_counts"].get<std::vector<int64_t>>(), want_counts);
  EXPECT_EQ(result["nodes"][0]["summary"]["class_counts"].get<std::vector<int64_t>>(),
            (std::vector<int64_t>{125, 93, 22}));

  // The stored record is what Get and List answer.
  auto got = service.Get(submitted->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->result_json, done->result_json);
  auto page = service.List(JobQuery{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 1);
}

TEST_F(JobServiceTest, InvalidConfigIsRejectedAndNothingIsStored) {
  auto service = StartService();
  auto unknown_key = service->Submit(Collaborative(R"({"model_id":"m","bogus":1})"));
  ASSERT_FALSE(unknown_key.ok());
  EXPECT_EQ(unknown_key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown_key.status().message(), StartsWith("$.bogus"));

  auto malformed = service->Submit(Collaborative("{\"model_id\":"));
  EXPECT_EQ(malformed.status().code(), StatusCode::kInvalidArgument);

  auto no_model = service->Submit(Collaborative("{}"));
  EXPECT_EQ(no_model.status().code(), StatusCode::kInvalidArgument);

  auto unknown_node = service->Submit(Collaborative(R"({"model_id":"m","nodes":["n9"]})"));
  ASSERT_FALSE(unknown_node.ok());
  EXPECT_EQ(unknown_node.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown_node.status().message(), StartsWith("$.nodes[0]"));

  SubmitRequest no_pattern = Collaborative();
  no_pattern.pattern = Pattern::kUnspecified;
  EXPECT_EQ(service->Submit(no_pattern).status().code(), StatusCode::kInvalidArgument);

  auto page = service->List(JobQuery{});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 0);
  EXPECT_THAT(node_->started(), IsEmpty());
}

// Two in-process nodes; "node-b" holds the dataset and the models heart_mlp, heart_mlp_copy
// (the same file under another name) and heart_risk; "node-a" lacks the copy.
class TwoNodeJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dim::testing::ExampleModelExists("heart_mlp"));
    const auto dir_a = scratch_.path() / "a";
    const auto dir_b = scratch_.path() / "b";
    for (const auto& d : {dir_a, dir_b}) {
      std::filesystem::create_directories(d);
      for (const char* m : {"heart_mlp", "heart_risk"}) {
        std::filesystem::copy_file(ExampleModelsDir() / (std::string(m) + ".onnx"),
                                   d / (std::string(m) + ".onnx"));
      }
    }
    std::filesystem::copy_file(ExampleModelsDir() / "heart_mlp.onnx",
                               dir_b / "heart_mlp_copy.onnx");
    for (const auto& [id, dir] : {std::pair{"node-a", dir_a}, std::pair{"node-b", dir_b}}) {
      DatasetCatalog datasets;
      ASSERT_TRUE(datasets.Add("default", ExampleDataFile("hospital_a.csv")).ok());
      auto models = std::make_shared<ModelRepository>(dir);
      ASSERT_TRUE(
          directory_.Add(id, std::make_shared<InProcessNode>(id, models, std::move(datasets)))
              .ok());
    }
    store_ = MemoryStore();
    ASSERT_NE(store_, nullptr);
    service_ = std::make_unique<JobService>(*store_, directory_, clock_);
    ASSERT_TRUE(service_->Start().ok());
  }

  static SubmitRequest Comparative(const std::string& config) {
    SubmitRequest r = Collaborative(config);
    r.pattern = Pattern::kComparative;
    return r;
  }
  static SubmitRequest Chained(const std::string& config) {
    SubmitRequest r = Collaborative(config);
    r.pattern = Pattern::kChained;
    return r;
  }

  // A config Submit must refuse with this code and message.
  struct RejectedCase {
    const char* config;
    StatusCode code;
    const char* message;
  };
  // Each config is refused as its case says, and none left a job behind.
  void ExpectRejected(Pattern pattern, const std::vector<RejectedCase>& cases) {
    for (const auto& c : cases) {
      SubmitRequest r = Collaborative(c.config);
      r.pattern = pattern;
      auto job = service_->Submit(r);
      ASSERT_FALSE(job.ok()) << c.config;
      EXPECT_EQ(job.status().code(), c.code) << c.config;
      EXPECT_EQ(job.status().message(), c.message) << c.config;
    }
    auto page = service_->List(JobQuery{});
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 0);
  }

  dim::testing::ScratchDir scratch_;
  InProcessDirectory directory_;
  std::unique_ptr<JobStore> store_;
  SystemClock clock_;
  std::unique_ptr<JobService> service_;
};

TEST_F(TwoNodeJobTest, IdenticalModelsAgreeOnEveryRowOfTheChosenNode) {
  auto submitted = service_->Submit(Comparative(R"({"modelIds":["heart_mlp","heart_mlp_copy"]})"));
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_EQ(submitted->total_steps, 1);
  ASSERT_EQ(submitted->nodes.size(), 1u);
  EXPECT_EQ(submitted->nodes[0].node_id, "node-b");  // the only one with both models

  auto done = service_->Wait(submitted->id, 20s);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->state, JobState::kCompleted) << done->error;
  EXPECT_EQ(done->completed_steps, 1);
  EXPECT_EQ(done->nodes[0].state, TaskState::kCompleted);
  auto result = nlohmann::json::parse(done->result_json, nullptr, false);
  ASSERT_TRUE(result.is_object()) << done->result_json;
  EXPECT_EQ(result["pattern"], "comparative");
  EXPECT_EQ(result["node_id"], "node-b");
  EXPECT_EQ(result["consensus_method"], "majority_vote");
  EXPECT_EQ(result["rows"], 240);
  // hospital_a's heart_mlp classes (as in the collaborative test above).
  EXPECT_EQ(result["class_counts"].get<std::vector<int64_t>>(),
            (std::vector<int64_t>{125, 93, 22}));
  EXPECT_EQ(result["agreement_level"], 1.0);
  EXPECT_EQ(result["pairwise_agreement"], nlohmann::json::parse("[[1.0,1.0],[1.0,1.0]]"));
  EXPECT_EQ(result["review_count"], 0);
}

TEST_F(TwoNodeJobTest, ModelsOfDifferentWidthsFailOnTheNodeNamingBoth) {
  auto submitted = service_->Submit(
      Comparative(R"({"model_ids":["heart_mlp","heart_risk"],"node_id":"node-a"})"));
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  auto done = service_->Wait(submitted->id, 20s);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, JobState::kFailed);
  EXPECT_THAT(done->error, HasSubstr("models 'heart_mlp' and 'heart_risk' have different output "
                                     "widths (3 and 1)"));
  EXPECT_EQ(done->nodes[0].state, TaskState::kFailed);
}

TEST_F(TwoNodeJobTest, BadConfigsAreRejectedAtSubmitWithTheirPath) {
  const std::vector<RejectedCase> cases = {
      {R"({"model_ids":["heart_mlp"]})", StatusCode::kInvalidArgument,
       "$.model_ids: a comparison needs at least 2 models, got 1"},
      {R"({"model_ids":["heart_mlp","ghost"],"node_id":"node-b"})", StatusCode::kNotFound,
       "$.model_ids[1]: model 'ghost' not found on node 'node-b'"},
      {R"({"model_ids":["heart_mlp","heart_risk"],"node_id":"node-z"})", StatusCode::kNotFound,
       "$.node_id: node 'node-z' not found (known nodes: node-a, node-b)"},
      {R"({"model_ids":["heart_mlp","heart_risk"],"dataset":"genomes"})", StatusCode::kNotFound,
       "$.dataset: no active node holds dataset 'genomes'"},
      {R"({"model_ids":["heart_mlp","heart_risk"],"node_id":"node-a","dataset":"x"})",
       StatusCode::kNotFound, "$.dataset: node 'node-a' has no dataset 'x' (it has: default)"},
      {R"({"model_ids":["heart_mlp","ghost"]})", StatusCode::kNotFound,
       "$.model_ids: no active node that holds dataset 'default' has all the models "
       "(node-a lacks 'ghost'; node-b lacks 'ghost')"},
  };
  ExpectRejected(Pattern::kComparative, cases);
}

TEST_F(TwoNodeJobTest, ClientRowsRunThroughAPipelineAcrossNodesAndComeBack) {
  // Step 2 reads the client's rows too (on the other node); the result is its outputs.
  const std::string config = R"({"pipeline":[
      {"step":1,"name":"classify","model_id":"heart_mlp","node_id":"node-a",
       "input_source":"client_data"},
      {"step":2,"name":"risk","modelId":"heart_risk","nodeId":"node-b",
       "inputSource":"client_data"}],
    "input_data":[[63,1,145,233,150,2.3,0,1],[41,0,130,204,172,1.4,2,0]]})";
  auto submitted = service_->Submit(Chained(config));
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  EXPECT_EQ(submitted->total_steps, 2);
  ASSERT_EQ(submitted->nodes.size(), 2u);
  EXPECT_EQ(submitted->nodes[1].node_id, "node-b");
  auto done = service_->Wait(submitted->id, 20s);
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->state, JobState::kCompleted) << done->error;
  EXPECT_EQ(done->completed_steps, 2);
  // The rows are kept beside the document, in binary; JSON clients get them inside it.
  EXPECT_EQ(nlohmann::json::parse(done->result_json).count("output_rows"), 0u);
  ASSERT_NE(done->output_rows, nullptr);
  auto result = nlohmann::json::parse(JobResultJson(*done));
  EXPECT_EQ(result["pattern"], "chained");
  EXPECT_EQ(result["output_shape"], nlohmann::json({2, 1}));
  // The rows that came back are heart_risk's outputs on the client's rows.
  auto model = Model::LoadFile(ExampleModelsDir() / "heart_risk.onnx");
  ASSERT_TRUE(model.ok());
  Matrix input(2, 8);
  input << 63, 1, 145, 233, 150, 2.3f, 0, 1, 41, 0, 130, 204, 172, 1.4f, 2, 0;
  auto expected = (*model)->Run(input);
  ASSERT_TRUE(expected.ok());
  ASSERT_EQ(result["output_rows"].size(), 2u);
  for (int r = 0; r < 2; ++r) {
    EXPECT_FLOAT_EQ(result["output_rows"][r][0].get<float>(), (*expected)(r, 0));
  }
  EXPECT_EQ(result["pipeline_trace"][0]["output_shape"], nlohmann::json({2, 3}));
  EXPECT_EQ(result["pipeline_trace"][1]["node_id"], "node-b");

  // The same rows sent beside the config (as a binary client does): the same output rows,
  // and the config stored without them.
  SubmitRequest binary = Chained(R"({"pipeline":[
      {"step":1,"name":"classify","model_id":"heart_mlp","node_id":"node-a",
       "input_source":"client_data"},
      {"step":2,"name":"risk","model_id":"heart_risk","node_id":"node-b",
       "input_source":"client_data"}]})");
  auto rows = std::make_shared<ClientData>();
  rows->rows = 2;
  rows->width = 8;
  rows->values.assign(input.data(), input.data() + input.size());
  binary.input_rows = rows;
  auto sent = service_->Submit(binary);
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();
  EXPECT_EQ(sent->config_json.find("input_data"), std::string::npos);
  auto ended = service_->Wait(sent->id, 20s);
  ASSERT_TRUE(ended.ok());
  ASSERT_EQ(ended->state, JobState::kCompleted) << ended->error;
  ASSERT_NE(ended->output_rows, nullptr);
  EXPECT_EQ(ended->output_rows->values, done->output_rows->values);
  // Read back from the store, rows and all.
  auto stored = service_->Get(sent->id);
  ASSERT_TRUE(stored.ok());
  ASSERT_NE(stored->output_rows, nullptr);
  EXPECT_EQ(stored->output_rows->values, done->output_rows->values);

  // Rows both ways, or with a pattern that takes none, are refused.
  SubmitRequest twice = Chained(config);
  twice.input_rows = rows;
  EXPECT_EQ(service_->Submit(twice).status().message(),
            "input_rows: the rows are also in the config's input_data; send them once");
  SubmitRequest collaborative;
  collaborative.pattern = Pattern::kCollaborative;
  collaborative.config_json = R"({"model_id":"heart_mlp"})";
  collaborative.input_rows = rows;
  EXPECT_EQ(service_->Submit(collaborative).status().message(),
            "input_rows: only a chained job takes rows");
}

// Rows too many for one message go in chunks: the pipeline runs chunk by chunk and its
// output, kept in chunks too, is the same as one run over all the rows would give.
TEST_F(TwoNodeJobTest, StreamedRowsRunChunkByChunkAndGiveTheRowsOfOneRun) {
  // 70,000 rows of 8: more than one chunk (kMaxClientValues numbers) holds.
  constexpr int64_t kRows = 70000;
  static_assert(kRows * 8 > kMaxClientValues);
  ClientData all;
  all.rows = kRows;
  all.width = 8;
  all.columns = {"age", "sex", "bp", "chol", "hr", "oldpeak", "slope", "thal"};
  const float base[8] = {63, 1, 145, 233, 150, 2.3f, 0, 1};
  for (int64_t r = 0; r < kRows; ++r) {
    for (int c = 0; c < 8; ++c)
      all.values.push_back(base[c] + static_cast<float>((r * 7 + c) % 11));
  }
  const std::string config = R"({"pipeline":[
      {"step":1,"name":"risk","model_id":"heart_risk","node_id":"node-a",
       "input_source":"client_data"},
      {"step":2,"name":"again","model_id":"heart_risk","node_id":"node-b",
       "input_source":"client_data"}]})";
  // Sent in pieces of 9,999 rows, stored in chunks of 15,625 (StreamChunkRows).
  ASSERT_EQ(StreamChunkRows(8), 15625);
  int64_t at = 0;
  RowSource pieces = [&]() -> Result<std::optional<ClientData>> {
    if (at == kRows) return std::optional<ClientData>();
    ClientData piece;
    piece.columns = all.columns;
    piece.width = 8;
    piece.rows = std::min<int64_t>(9999, kRows - at);
    piece.values.assign(all.values.begin() + at * 8, all.values.begin() + (at + piece.rows) * 8);
    at += piece.rows;
    return std::optional<ClientData>(std::move(piece));
  };
  auto submitted = service_->SubmitStreamed(Chained(config), pieces);
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  ASSERT_TRUE(submitted->input_stream.has_value());
  EXPECT_EQ(submitted->input_stream->rows, kRows);
  EXPECT_EQ(submitted->input_stream->chunks, 5);
  EXPECT_EQ(submitted->input_rows, nullptr);
  auto done = service_->Wait(submitted->id, 60s);
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->state, JobState::kCompleted) << done->error;
  EXPECT_EQ(done->nodes[1].state, TaskState::kCompleted);
  EXPECT_EQ(done->nodes[1].rows_done, kRows);
  ASSERT_TRUE(done->output_stream.has_value());
  EXPECT_EQ(done->output_stream->rows, kRows);
  EXPECT_EQ(done->output_stream->width, 1);
  EXPECT_EQ(done->output_rows, nullptr);
  auto doc = nlohmann::json::parse(done->result_json);
  EXPECT_EQ(doc["chunks"], 5);
  EXPECT_EQ(doc["output_shape"], nlohmann::json({kRows, 1}));
  EXPECT_EQ(doc.count("output_rows"), 0u);
  EXPECT_EQ(doc["pipeline_trace"][0]["attempts"], 5);  // one task per chunk
  EXPECT_EQ(doc["output"]["rows"], kRows);

  // The model's own outputs on all the rows at once.
  auto model = Model::LoadFile(ExampleModelsDir() / "heart_risk.onnx");
  ASSERT_TRUE(model.ok());
  auto expected = (*model)->Run(Eigen::Map<const Matrix>(all.values.data(), kRows, 8));
  ASSERT_TRUE(expected.ok());
  std::vector<float> got;
  ASSERT_TRUE(service_
                  ->ReadOutputRows(*done,
                                   [&](const ClientData& chunk) {
                                     got.insert(got.end(), chunk.values.begin(),
                                                chunk.values.end());
                                     return Status::Ok();
                                   })
                  .ok());
  ASSERT_EQ(static_cast<int64_t>(got.size()), kRows);
  for (int64_t r = 0; r < kRows; r += 997) EXPECT_FLOAT_EQ(got[r], (*expected)(r, 0)) << r;
  EXPECT_FLOAT_EQ(got.back(), (*expected)(kRows - 1, 0));
  // The summary pooled over the chunks is that of all the rows.
  double sum = 0;
  for (float v : got) sum += v;
  EXPECT_NEAR(doc["output"]["columns"][0]["mean"].get<double>(), sum / kRows, 1e-5);
}

TEST_F(TwoNodeJobTest, AStreamedSubmitThatIsRefusedOrAbandonedLeavesNothingStored) {
  const auto rows_of = [](int64_t n, int64_t width) {
    ClientData d;
    d.rows = n;
    d.width = width;
    d.values.assign(static_cast<size_t>(n * width), 1.0f);
    return d;
  };
  const std::string one_step = R"({"pipeline":[{"step":1,"model_id":"heart_risk",)"
                               R"("node_id":"node-a","input_source":"client_data"}]})";
  std::string abandoned;
  {
    auto upload = service_->BeginUpload(Chained(one_step));
    ASSERT_TRUE(upload.ok()) << upload.status().ToString();
    abandoned = (*upload)->job_id();
    ASSERT_TRUE((*upload)->Add(rows_of(20000, 8)).ok());
    ASSERT_TRUE(store_->GetRowChunk(abandoned, 0, 0).ok());  // a full chunk is stored at once
    // Another width after the first rows.
    EXPECT_EQ((*upload)->Add(rows_of(2, 7)).message(),
              "input_rows: rows of width 7 after rows of width 8");
  }  // dropped unfinished: its stored chunk goes
  EXPECT_EQ(store_->GetRowChunk(abandoned, 0, 0).status().code(), StatusCode::kNotFound);
  auto page = service_->List({});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 0);

  // A step over a node's dataset would read it again for every chunk.
  auto mixed = service_->BeginUpload(Chained(R"({"pipeline":[
      {"step":1,"model_id":"heart_mlp","node_id":"node-a","input_source":"dataset:default"},
      {"step":2,"model_id":"heart_risk","node_id":"node-b","input_source":"client_data"}]})"));
  ASSERT_TRUE(mixed.ok());
  Status refused = (*mixed)->Add(rows_of(10, 8));
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), ::testing::HasSubstr("$.pipeline[0].input_source: a pipeline "
                                                      "over streamed rows"));
  // No rows at all; a job that is not a pipeline.
  auto empty = service_->BeginUpload(Chained(one_step));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ((*empty)->Finish().status().message(), "input_rows: no rows came");
  SubmitRequest collaborative;
  collaborative.pattern = Pattern::kCollaborative;
  collaborative.config_json = R"({"model_id":"heart_mlp"})";
  EXPECT_EQ(service_->BeginUpload(collaborative).status().code(), StatusCode::kInvalidArgument);
}

// A pipeline waiting with its rows when the orchestrator stopped runs on them after the
// restart: they are read back from the store, not kept from the recovery's listing.
TEST_F(TwoNodeJobTest, APendingPipelinesRowsSurviveARestart) {
  JobRecord job;
  job.id = "job-rows-pending";
  job.user_id = "alice";
  job.pattern = Pattern::kChained;
  job.config_json = R"({"pipeline":[{"step":1,"model_id":"heart_risk","node_id":"node-b",)"
                    R"("input_source":"client_data"}]})";
  job.state = JobState::kPending;
  job.created_at = "2026-01-01T00:00:00.000Z";
  job.input_rows =
      std::make_shared<const ClientData>(ClientData{{}, 1, 8, {63, 1, 145, 233, 150, 2.3f, 0, 1}});
  ASSERT_TRUE(store_->Insert(&job).ok());
  JobService restarted(*store_, directory_, clock_, {.recover = true});
  ASSERT_TRUE(restarted.Start().ok());
  auto done = restarted.Wait(job.id, 20s);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->state, JobState::kCompleted) << done->error;
  ASSERT_NE(done->output_rows, nullptr);
  EXPECT_EQ(done->output_rows->rows, 1);
  EXPECT_EQ(done->output_rows->width, 1);
}

TEST_F(TwoNodeJobTest, AFailedPipelineKeepsItsTraceAndNamesTheStep) {
  // heart_risk takes 8 features, and step 1's outputs have 3: the node refuses step 2.
  const std::string config = R"({"pipeline":[
      {"step":1,"model_id":"heart_mlp","node_id":"node-a","input_source":"dataset:default"},
      {"step":2,"model_id":"heart_risk","node_id":"node-a","input_source":"step_1_output"}]})";
  auto submitted = service_->Submit(Chained(config));
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  auto done = service_->Wait(submitted->id, 20s);
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->state, JobState::kFailed);
  EXPECT_EQ(done->error,
            "step 2 'step_2' failed on node 'node-a' after 1 attempt: node 'node-a': "
            "INVALID_ARGUMENT: model 'heart_risk' expects 8 input columns, got 3");
  EXPECT_EQ(done->nodes[0].state, TaskState::kCompleted);
  EXPECT_EQ(done->nodes[1].state, TaskState::kFailed);
  auto trace = nlohmann::json::parse(done->result_json)["pipeline_trace"];
  EXPECT_EQ(trace[0]["output_shape"], nlohmann::json({240, 3}));
  EXPECT_EQ(trace[1]["status"], "failed");
}

TEST_F(TwoNodeJobTest, BadPipelinesAreRejectedAtSubmitWithTheirPath) {
  const std::vector<RejectedCase> cases = {
      {R"({"pipeline":[]})", StatusCode::kInvalidArgument,
       "$.pipeline: a pipeline needs at least 1 step"},
      {R"({"pipeline":[{"step":1,"model_id":"heart_mlp","node_id":"node-z",
           "input_source":"dataset:default"}]})",
       StatusCode::kNotFound, "$.pipeline[0].node_id: node 'node-z' not found (known nodes: "
                              "node-a, node-b)"},
      {R"({"pipeline":[{"step":1,"model_id":"heart_mlp","node_id":"node-a",
           "input_source":"dataset:default"},{"step":2,"model_id":"ghost","node_id":"node-b",
           "input_source":"dataset:default"}]})",
       StatusCode::kNotFound, "$.pipeline[1].model_id: model 'ghost' not found on node 'node-b'"},
  };
  ExpectRejected(Pattern::kChained, cases);
}

// "n1" of OneNodeDirectory, known only once online: a daemon that has not registered again
// since the orchestrator restarted.
class LateNodeDirectory final : public NodeDirectory {
 public:
  explicit LateNodeDirectory(std::shared_ptr<ScriptedNode> node) : known_(std::move(node)) {}
  void GoOnline() { online_ = true; }
  Result<std::shared_ptr<NodeClient>> Client(const std::string& node_id) override {
    if (!online_) return Status::NotFound("node '" + node_id + "' not found");
    return known_.Client(node_id);
  }
  std::vector<NodeDescription> Describe() override {
    return online_ ? known_.Describe() : std::vector<NodeDescription>{};
  }

 private:
  OneNodeDirectory known_;
  std::atomic<bool> online_{false};
};

// A job left PENDING in the store by an orchestrator that died.
std::string StorePendingJob(JobStore& store) {
  JobRecord job;
  job.id = "job-left-pending";
  job.user_id = "alice";
  job.pattern = Pattern::kCollaborative;
  job.config_json = kConfig;
  job.priority = Priority::kNormal;
  job.state = JobState::kPending;
  job.created_at = "2026-12-04T10:00:00Z";
  job.total_steps = 1;
  job.nodes.resize(1);
  job.nodes[0].node_id = "n1";
  EXPECT_TRUE(store.Insert(&job).ok());
  return job.id;
}

TEST_F(JobServiceTest, ARestartedServiceKeepsQueuedJobsUntilTheirNodesAreBack) {
  LateNodeDirectory late(node_);
  const std::string left = StorePendingJob(*store_);
  JobService service(*store_, late, clock_, {.node_grace = 10s});
  ASSERT_TRUE(service.Start().ok());
  // Submitted before the node is heard from: accepted, its nodes checked when it starts.
  auto early = service.Submit(Collaborative());
  ASSERT_TRUE(early.ok()) << early.status().ToString();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(service.Get(left)->state, JobState::kPending);
  EXPECT_EQ(service.Get(early->id)->state, JobState::kPending);
  late.GoOnline();
  for (const std::string& id : {left, early->id}) {
    auto ended = service.Wait(id, 5s);
    ASSERT_TRUE(ended.ok()) << ended.status().ToString();
    EXPECT_EQ(ended->state, JobState::kCompleted) << ended->error;
    EXPECT_EQ(ended->total_steps, 1);
  }
}

TEST_F(JobServiceTest, NodesThatNeverComeBackFailTheJobOnceTheGraceEnds) {
  LateNodeDirectory late(node_);
  const std::string left = StorePendingJob(*store_);
  JobService service(*store_, late, clock_, {.node_grace = 300ms});
  ASSERT_TRUE(service.Start().ok());
  auto ended = service.Wait(left, 5s);
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(ended->state, JobState::kFailed);
  EXPECT_THAT(ended->error, HasSubstr("node 'n1' not found"));
}

TEST_F(JobServiceTest, AFirstStartReportsAnUnknownNodeAtOnce) {
  LateNodeDirectory late(node_);
  JobService service(*store_, late, clock_, {.node_grace = 10s});
  ASSERT_TRUE(service.Start().ok());
  EXPECT_EQ(service.Submit(Collaborative()).status().code(), StatusCode::kNotFound);
}

TEST_F(JobServiceTest, UnknownJobIsNotFound) {
  auto service = StartService();
  EXPECT_EQ(service->Get("job-none").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service->Cancel("job-none").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(service->Wait("job-none", 10ms).status().code(), StatusCode::kNotFound);
}

TEST_F(JobServiceTest, CancelOfAFinishedJobIsFailedPrecondition) {
  auto service = StartService();
  const std::string id = SubmitOrDie(*service);
  auto done = service->Wait(id, 10s);
  ASSERT_TRUE(done.ok());
  ASSERT_EQ(done->state, JobState::kCompleted) << done->error;
  auto cancelled = service->Cancel(id);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(cancelled.status().message(), HasSubstr("COMPLETED"));
  EXPECT_EQ(service->Get(id)->state, JobState::kCompleted);
}

TEST_F(JobServiceTest, CancelOfARunningJobStopsItsNodeTask) {
  node_->Hold(true);
  auto service = StartService();
  const std::string id = SubmitOrDie(*service);
  ASSERT_TRUE(node_->WaitStarted(id));
  ASSERT_EQ(service->Get(id)->state, JobState::kRunning);

  auto cancelled = service->Cancel(id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_FALSE(cancelled->completed_at.empty());
  ASSERT_EQ(cancelled->nodes.size(), 1u);
  EXPECT_EQ(cancelled->nodes[0].state, TaskState::kCancelled);

  auto waited = service->Wait(id, 5s);
  ASSERT_TRUE(waited.ok());
  EXPECT_EQ(waited->state, JobState::kCancelled);
  // The node task is told to stop, and the job's end stays CANCELLED once it did.
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  while (!node_->WasCancelled(id) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(node_->WasCancelled(id));
  service->Stop();
  EXPECT_EQ(service->Get(id)->state, JobState::kCancelled);
}

TEST_F(JobServiceTest, CancelOfARunningComparativeJobStopsItsNodeTask) {
  node_->Hold(true);
  auto service = StartService();
  SubmitRequest r = Collaborative(R"({"model_ids":["m","m2"]})");
  r.pattern = Pattern::kComparative;
  auto job = service->Submit(r);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  ASSERT_EQ(job->nodes.size(), 1u);
  EXPECT_EQ(job->nodes[0].node_id, "n1");
  ASSERT_TRUE(node_->WaitStarted(job->id));
  auto cancelled = service->Cancel(job->id);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  while (!node_->WasCancelled(job->id) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_TRUE(node_->WasCancelled(job->id));
  auto waited = service->Wait(job->id, 5s);
  ASSERT_TRUE(waited.ok());
  EXPECT_EQ(waited->state, JobState::kCancelled);
}

TEST_F(JobServiceTest, ComparativeJobWhoseNodeAnswersWithoutAVoteFails) {
  auto service = StartService();
  SubmitRequest r = Collaborative(R"({"model_ids":["m","m2"]})");
  r.pattern = Pattern::kComparative;
  auto job = service->Submit(r);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  auto done = service->Wait(job->id, 5s);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, JobState::kFailed);  // the scripted node sends a summary
  EXPECT_EQ(done->error, "node 'n1' sent something other than a vote");
}

TEST_F(JobServiceTest, CancelledPendingJobNeverRuns) {
  node_->Hold(true);
  auto service = StartService({.workers = 1});
  const std::string blocker = SubmitOrDie(*service);
  ASSERT_TRUE(node_->WaitStarted(blocker));
  const std::string waiting = SubmitOrDie(*service);
  ASSERT_EQ(service->Get(waiting)->state, JobState::kPending);

  auto cancelled = service->Cancel(waiting);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  EXPECT_EQ(cancelled->state, JobState::kCancelled);
  EXPECT_EQ(cancelled->error, "cancelled by request");

  node_->Hold(false);
  auto done = service->Wait(blocker, 10s);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, JobState::kCompleted);
  // Another job after it shows the worker went past the cancelled one.
  const std::string after = SubmitOrDie(*service);
  ASSERT_EQ(service->Wait(after, 10s)->state, JobState::kCompleted);
  EXPECT_THAT(node_->started(), ElementsAre(blocker, after));
  EXPECT_EQ(service->Get(waiting)->state, JobState::kCancelled);
}

TEST_F(JobServiceTest, QueuedJobsRunHighBeforeNormalBeforeLowInArrivalOrder) {
  node_->Hold(true);
  auto service = StartService({.workers = 1});
  const std::string blocker = SubmitOrDie(*service);
  ASSERT_TRUE(node_->WaitStarted(blocker));
  const std::string low1 = SubmitOrDie(*service, Priority::kLow);
  const std::string normal1 = SubmitOrDie(*service, Priority::kNormal);
  const std::string high1 = SubmitOrDie(*service, Priority::kHigh);
  const std::string low2 = SubmitOrDie(*service, Priority::kLow);
  const std::string normal2 = SubmitOrDie(*service, Priority::kUnspecified);
  const std::string high2 = SubmitOrDie(*service, Priority::kHigh);
  EXPECT_EQ(service->Get(normal2)->priority, Priority::kNormal);
  node_->Hold(false);
  for (const auto& id : {low1, normal1, high1, low2, normal2, high2}) {
    auto done = service->Wait(id, 10s);
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->state, JobState::kCompleted) << id;
  }
  EXPECT_THAT(node_->started(), ElementsAre(blocker, high1, high2, normal1, normal2, low1, low2));
}

TEST_F(JobServiceTest, NodeTasksCarryTheJobsPriority) {
  auto service = StartService();
  for (Priority p : {Priority::kHigh, Priority::kLow, Priority::kUnspecified}) {
    const std::string id = SubmitOrDie(*service, p);
    auto done = service->Wait(id, 10s);
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(node_->PriorityOf(id), p == Priority::kUnspecified ? Priority::kNormal : p);
  }
}

TEST_F(JobServiceTest, FullQueueIsResourceExhaustedAndStoresNothing) {
  node_->Hold(true);
  auto service = StartService({.workers = 1, .max_queued = 2});
  const std::string blocker = SubmitOrDie(*service);
  ASSERT_TRUE(node_->WaitStarted(blocker));
  SubmitOrDie(*service);
  SubmitOrDie(*service);
  auto refused = service->Submit(Collaborative());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(),
            "the orchestrator's queue is full (2 jobs waiting); submit again later");
  EXPECT_EQ(service->List(JobQuery{})->total, 3);
  node_->Hold(false);
  ASSERT_TRUE(service->Wait(blocker, 10s).ok());
  // Room again once the queue moves.
  for (int i = 0; i < 50 && !service->Submit(Collaborative()).ok(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(service->List(JobQuery{})->total, 4);
}

TEST_F(JobServiceTest, ACancelledPendingJobFreesItsPlaceInTheQueueAtOnce) {
  node_->Hold(true);
  auto service = StartService({.workers = 1, .max_queued = 2});
  const std::string blocker = SubmitOrDie(*service);
  ASSERT_TRUE(node_->WaitStarted(blocker));
  const std::string first = SubmitOrDie(*service);
  SubmitOrDie(*service);
  ASSERT_EQ(service->Submit(Collaborative()).status().code(), StatusCode::kResourceExhausted);
  auto cancelled = service->Cancel(first);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  // The worker is still busy: the place is free without it.
  const std::string after = SubmitOrDie(*service);
  EXPECT_EQ(service->Get(first)->state, JobState::kCancelled);
  node_->Hold(false);
  auto done = service->Wait(after, 10s);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->state, JobState::kCompleted);
  EXPECT_THAT(node_->started(), Not(Contains(first)));
}

// Every record a watcher saw, in order.
struct WatchLog {
  JobService::Watcher Fn() {
    return [this](const JobRecord& job) {
      std::lock_guard lock(mu);
      states.push_back(job.state);
      steps.push_back(job.completed_steps);
      cv.notify_all();
    };
  }
  bool WaitFor(JobState state) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [&] {
      return !states.empty() && states.back() == state;
    });
  }
  std::vector<JobState> States() {
    std::lock_guard lock(mu);
    return states;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<JobState> states;
  std::vector<int> steps;
};

TEST_F(JobServiceTest, WatchSeesEveryStoredChangeUntilTheJobEnds) {
  node_->Hold(true);
  auto service = StartService();
  const std::string id = SubmitOrDie(*service);
  ASSERT_TRUE(node_->WaitStarted(id));
  WatchLog log;
  auto handle = service->Watch(id, log.Fn());
  ASSERT_TRUE(handle.ok()) << handle.status().ToString();
  EXPECT_NE(*handle, 0);
  EXPECT_THAT(log.States(), ElementsAre(JobState::kRunning));  // at once, as stored
  node_->Hold(false);
  ASSERT_TRUE(log.WaitFor(JobState::kCompleted));
  // The node's end (1 of 1 steps) was stored, then the job's.
  EXPECT_EQ(log.steps.back(), 1);
  const auto seen = log.States();
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end() - 1,
                          [](JobState s) { return s == JobState::kRunning; }));
  service->Unwatch(*handle);  // already done: harmless

  // A job that already ended: one call, and no handle.
  WatchLog again;
  auto ended = service->Watch(id, again.Fn());
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(*ended, 0);
  EXPECT_THAT(again.States(), ElementsAre(JobState::kCompleted));

  EXPECT_EQ(service->Watch("job-none", again.Fn()).status().code(), StatusCode::kNotFound);
}

TEST_F(JobServiceTest, WatchSeesACancelAndUnwatchStopsTheCalls) {
  node_->Hold(true);
  auto service = StartService({.workers = 1});
  const std::string running = SubmitOrDie(*service);
  ASSERT_TRUE(node_->WaitStarted(running));
  const std::string queued = SubmitOrDie(*service);
  WatchLog watched, dropped;
  auto h1 = service->Watch(queued, watched.Fn());
  auto h2 = service->Watch(running, dropped.Fn());
  ASSERT_TRUE(h1.ok() && h2.ok());
  EXPECT_THAT(watched.States(), ElementsAre(JobState::kPending));
  service->Unwatch(*h2);
  ASSERT_TRUE(service->Cancel(queued).ok());
  EXPECT_THAT(watched.States(), ElementsAre(JobState::kPending, JobState::kCancelled));
  node_->Hold(false);
  ASSERT_TRUE(service->Wait(running, 10s).ok());
  EXPECT_THAT(dropped.States(), ElementsAre(JobState::kRunning));
}

TEST_F(JobServiceTest, FailedNodeFailsTheJobWithItsError) {
  auto failing = std::make_shared<ScriptedNode>(Status::Unavailable("connection refused"));
  OneNodeDirectory directory(failing);
  JobService service(*store_, directory, clock_);
  ASSERT_TRUE(service.Start().ok());
  auto job = service.Submit(Collaborative());
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  auto done = service.Wait(job->id, 10s);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, JobState::kFailed);
  EXPECT_THAT(done->error, HasSubstr("n1: UNAVAILABLE: connection refused"));
  ASSERT_EQ(done->nodes.size(), 1u);
  EXPECT_EQ(done->nodes[0].state, TaskState::kFailed);
  EXPECT_EQ(done->completed_steps, 1);
  EXPECT_TRUE(done->result_json.empty());
}

TEST_F(JobServiceTest, WaitPastItsTimeoutIsDeadlineExceeded) {
  node_->Hold(true);
  auto service = StartService();
  const std::string id = SubmitOrDie(*service);
  auto waited = service->Wait(id, 50ms);
  ASSERT_FALSE(waited.ok());
  EXPECT_EQ(waited.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(waited.status().message(), HasSubstr(id));
  ASSERT_TRUE(service->Cancel(id).ok());
}

// A record as a previous process left it in the store.
JobRecord LeftBehind(const std::string& id, JobState state) {
  JobRecord r;
  r.id = id;
  r.user_id = "alice";
  r.pattern = Pattern::kCollaborative;
  r.config_json = kConfig;
  r.state = state;
  r.total_steps = 1;
  NodeTaskRecord n;
  n.node_id = "n1";
  n.state = state == JobState::kRunning ? TaskState::kRunning : TaskState::kPending;
  r.nodes = {n};
  r.created_at = "2026-01-01T00:00:00.000Z";
  if (state == JobState::kRunning) r.started_at = "2026-01-01T00:00:01.000Z";
  return r;
}

TEST_F(JobServiceTest, StartFailsRunningJobsAndRunsPendingOnesAfterARestart) {
  JobRecord running = LeftBehind("job-was-running", JobState::kRunning);
  JobRecord pending = LeftBehind("job-was-pending", JobState::kPending);
  JobRecord done = LeftBehind("job-was-done", JobState::kCompleted);
  ASSERT_TRUE(store_->Insert(&running).ok());
  ASSERT_TRUE(store_->Insert(&pending).ok());
  ASSERT_TRUE(store_->Insert(&done).ok());

  auto service = StartService({.recover = true});
  auto failed = service->Get("job-was-running");
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->state, JobState::kFailed);
  EXPECT_THAT(failed->error, HasSubstr("stopped while this job was running"));
  EXPECT_FALSE(failed->completed_at.empty());

  auto ran = service->Wait("job-was-pending", 10s);
  ASSERT_TRUE(ran.ok()) << ran.status().ToString();
  EXPECT_EQ(ran->state, JobState::kCompleted) << ran->error;
  EXPECT_FALSE(ran->result_json.empty());
  EXPECT_THAT(node_->started(), ElementsAre("job-was-pending"));
  EXPECT_EQ(service->Get("job-was-done")->state, JobState::kCompleted);
  EXPECT_TRUE(service->Get("job-was-done")->result_json.empty());
}

TEST_F(JobServiceTest, StartWithoutRecoveryLeavesUnfinishedJobsAlone) {
  JobRecord running = LeftBehind("job-was-running", JobState::kRunning);
  JobRecord pending = LeftBehind("job-was-pending", JobState::kPending);
  ASSERT_TRUE(store_->Insert(&running).ok());
  ASSERT_TRUE(store_->Insert(&pending).ok());

  auto service = StartService({.recover = false});
  // A job submitted now runs and ends while the old ones stay as they were.
  const std::string fresh = SubmitOrDie(*service);
  ASSERT_EQ(service->Wait(fresh, 10s)->state, JobState::kCompleted);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(service->Get("job-was-running")->state, JobState::kRunning);
  EXPECT_TRUE(service->Get("job-was-running")->error.empty());
  EXPECT_EQ(service->Get("job-was-pending")->state, JobState::kPending);
  EXPECT_THAT(node_->started(), ElementsAre(fresh));
}

TEST_F(JobServiceTest, StopFailsRunningJobsAndKeepsQueuedOnesForTheNextStart) {
  node_->Hold(true);
  std::string running;
  std::string queued;
  {
    auto service = StartService({.workers = 1});
    running = SubmitOrDie(*service);
    ASSERT_TRUE(node_->WaitStarted(running));
    queued = SubmitOrDie(*service);
    service->Stop();
    auto failed = service->Get(running);
    ASSERT_TRUE(failed.ok());
    EXPECT_EQ(failed->state, JobState::kFailed);
    EXPECT_THAT(failed->error, HasSubstr("stopped while this job was running"));
    EXPECT_EQ(service->Get(queued)->state, JobState::kPending);
    EXPECT_EQ(service->Submit(Collaborative()).status().code(), StatusCode::kUnavailable);
  }
  node_->Hold(false);
  auto next = StartService();
  auto ran = next->Wait(queued, 10s);
  ASSERT_TRUE(ran.ok());
  EXPECT_EQ(ran->state, JobState::kCompleted) << ran->error;
  EXPECT_EQ(next->Get(running)->state, JobState::kFailed);
}

}  // namespace
}  // namespace dim::core

namespace dim::core {
namespace {

// Records what the service tells its observer.
class RecordingObserver final : public JobObserver {
 public:
  void OnJobEvent(const JobEventNotice& notice) override {
    std::lock_guard lock(mu_);
    notices_.push_back(notice);
  }
  std::vector<JobEventNotice> notices() {
    std::lock_guard lock(mu_);
    return notices_;
  }

 private:
  std::mutex mu_;
  std::vector<JobEventNotice> notices_;
};

std::vector<JobEventKind> Kinds(const std::vector<JobEvent>& events) {
  std::vector<JobEventKind> out;
  for (const auto& e : events) out.push_back(e.kind);
  return out;
}

TEST_F(JobServiceTest, AJobKeepsItsTimelineAndTheObserverHearsEachEvent) {
  RecordingObserver observer;
  auto service = StartService({.workers = 1, .observer = &observer});
  const std::string id = SubmitOrDie(*service);
  auto done = service->Wait(id, 10s);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  ASSERT_EQ(done->state, JobState::kCompleted) << done->error;
  using K = JobEventKind;
  EXPECT_THAT(Kinds(done->events), ElementsAre(K::kSubmitted, K::kQueued, K::kStarted,
                                               K::kTaskStarted, K::kTaskEnded, K::kEnded));
  EXPECT_EQ(done->events[3].node_id, "n1");
  EXPECT_THAT(done->events[4].detail, StartsWith("completed in "));
  EXPECT_EQ(done->events[5].detail, "COMPLETED");
  EXPECT_EQ(done->events[0].detail, "by alice");
  // Stored: the job's record in the store has the same timeline.
  auto stored = store_->Get(id);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(Kinds(stored->events), Kinds(done->events));
  // The observer heard the same events, in order, with the job's id, pattern and state (the
  // last one once the end is stored and its waiters woken: told outside the service's lock).
  auto notices = observer.notices();
  for (int i = 0; i < 1000 && notices.size() < done->events.size(); ++i) {
    std::this_thread::sleep_for(1ms);
    notices = observer.notices();
  }
  ASSERT_EQ(notices.size(), done->events.size());
  for (size_t i = 0; i < notices.size(); ++i) {
    EXPECT_EQ(notices[i].job_id, id);
    EXPECT_EQ(notices[i].event.kind, done->events[i].kind);
    EXPECT_EQ(notices[i].pattern, Pattern::kCollaborative);
  }
  EXPECT_EQ(notices.back().state, JobState::kCompleted);
  EXPECT_GE(notices.back().seconds, 0);
  EXPECT_EQ(notices[4].task_state, TaskState::kCompleted);
}

TEST_F(JobServiceTest, ACancelIsInTheTimelineWithWhoAsked) {
  RecordingObserver observer;
  node_->Hold(true);
  auto service = StartService({.workers = 1, .observer = &observer});
  const std::string id = SubmitOrDie(*service);
  ASSERT_TRUE(node_->WaitStarted(id));
  auto cancelled = service->Cancel(id, "bob (admin)");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status().ToString();
  const auto& events = cancelled->events;
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[events.size() - 2].kind, JobEventKind::kCancelRequested);
  EXPECT_EQ(events[events.size() - 2].detail, "by bob (admin)");
  EXPECT_EQ(events.back().kind, JobEventKind::kEnded);
  EXPECT_THAT(events.back().detail, StartsWith("CANCELLED"));
  node_->Hold(false);
  service->Stop();
  // The job's end was told once.
  int ended = 0;
  for (const auto& n : observer.notices()) ended += n.event.kind == JobEventKind::kEnded;
  EXPECT_EQ(ended, 1);
  EXPECT_EQ(Kinds(store_->Get(id)->events), Kinds(events));
}

TEST(Iso8601, ReadsBackWhatItWrites) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::time_point_cast<std::chrono::milliseconds>(now);
  auto back = ParseIso8601(FormatIso8601(now));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, ms);
  EXPECT_TRUE(ParseIso8601("2026-11-24T19:12:03Z").has_value());
  EXPECT_FALSE(ParseIso8601("yesterday").has_value());
  EXPECT_FALSE(ParseIso8601("2026-13-24T19:12:03Z").has_value());
  EXPECT_FALSE(ParseIso8601("").has_value());
}

}  // namespace
}  // namespace dim::core
