#include "core/node/task_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "core/infer/model.h"
#include "tests/core/infer/onnx_test_model.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using dim::testing::ExampleDataFile;
using dim::testing::ExampleModelExists;
using dim::testing::ExampleModelsDir;

// Reads a numeric CSV in the test itself (header skipped): an independent path to the rows.
Matrix ReadCsv(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<float>> rows;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<float> row;
    std::stringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) row.push_back(std::stof(cell));
    rows.push_back(std::move(row));
  }
  Matrix m(static_cast<Eigen::Index>(rows.size()),
           rows.empty() ? 0 : static_cast<Eigen::Index>(rows[0].size()));
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = rows[r][c];
    }
  }
  return m;
}

// The example models, dataset "a" (hospital_a.csv), and a fresh directory per test (dir_).
class TaskRunnerTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ExampleModelExists("heart_mlp"));
    ASSERT_TRUE(datasets_.Add("a", ExampleDataFile("hospital_a.csv")).ok());
  }

  Result<Summary> Run(const NodeTask& task, int64_t batch_rows = 4096) {
    CancelToken cancel;
    return RunSummaryTask(models_, datasets_, task, cancel, batch_rows);
  }

  static NodeTask Task(const std::string& model, const std::string& dataset) {
    NodeTask t;
    t.job_id = "job-1";
    t.model_id = model;
    t.dataset = dataset;
    return t;
  }

  // A "models" folder of the test's own with heart_mlp and heart_risk in it.
  fs::path OwnModelsDir() {
    const fs::path dir = dir_.path() / "models";
    fs::create_directories(dir);
    for (const char* m : {"heart_mlp.onnx", "heart_risk.onnx"}) {
      fs::copy_file(ExampleModelsDir() / m, dir / m);
    }
    return dir;
  }

  ModelRepository models_{ExampleModelsDir()};
  DatasetCatalog datasets_;
};

TEST_F(TaskRunnerTest, ClassifierCountsClassesOfEveryRow) {
  auto summary = Run(Task("heart_mlp", "a"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 240);
  ASSERT_EQ(summary->columns.size(), 3u);
  EXPECT_THAT(summary->class_counts, ElementsAre(125, 93, 22));
  // Softmax outputs: probabilities whose means add up to one.
  double sum = 0;
  for (const auto& c : summary->columns) {
    sum += c.mean;
    EXPECT_GE(c.min, 0.0);
    EXPECT_LE(c.max, 1.0);
    EXPECT_LE(c.min, c.mean);
    EXPECT_GE(c.max, c.mean);
  }
  EXPECT_NEAR(sum, 1.0, 1e-5);
}

TEST_F(TaskRunnerTest, SummaryMatchesTheModelRunOnAllRowsAtOnce) {
  auto model = Model::LoadFile(ExampleModelsDir() / "heart_mlp.onnx");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const Matrix input = ReadCsv(ExampleDataFile("hospital_a.csv"));
  ASSERT_EQ(input.rows(), 240);
  auto out = (*model)->Run(input);
  ASSERT_TRUE(out.ok()) << out.status().ToString();

  // Small, uneven batches must give the figures of one big batch (up to float rounding).
  auto summary = Run(Task("heart_mlp", "a"), /*batch_rows=*/7);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  ASSERT_EQ(summary->rows, out->rows());
  ASSERT_EQ(static_cast<Eigen::Index>(summary->columns.size()), out->cols());
  std::vector<int64_t> counts(3, 0);
  for (Eigen::Index r = 0; r < out->rows(); ++r) {
    Eigen::Index best = 0;
    for (Eigen::Index c = 1; c < out->cols(); ++c) {
      if ((*out)(r, c) > (*out)(r, best)) best = c;
    }
    ++counts[static_cast<size_t>(best)];
  }
  EXPECT_EQ(summary->class_counts, counts);
  for (Eigen::Index c = 0; c < out->cols(); ++c) {
    double mean = 0;
    double lo = (*out)(0, c);
    double hi = lo;
    for (Eigen::Index r = 0; r < out->rows(); ++r) {
      mean += (*out)(r, c);
      lo = std::min<double>(lo, (*out)(r, c));
      hi = std::max<double>(hi, (*out)(r, c));
    }
    mean /= static_cast<double>(out->rows());
    double var = 0;
    for (Eigen::Index r = 0; r < out->rows(); ++r) {
      var += ((*out)(r, c) - mean) * ((*out)(r, c) - mean);
    }
    var /= static_cast<double>(out->rows());
    const auto& col = summary->columns[static_cast<size_t>(c)];
    EXPECT_NEAR(col.mean, mean, 1e-6) << c;
    EXPECT_NEAR(col.variance, var, 1e-6) << c;
    // Matrix products of 7 rows and of 240 may round differently in the last bit (the
    // kernels block and fuse multiply-adds differently), so "the same" is within float error.
    EXPECT_NEAR(col.min, lo, 1e-6 * std::abs(lo)) << c;
    EXPECT_NEAR(col.max, hi, 1e-6 * std::abs(hi)) << c;
  }
}

TEST_F(TaskRunnerTest, SingleOutputModelIsNotAClassifierUnlessAsked) {
  auto regression = Run(Task("heart_risk", "a"));
  ASSERT_TRUE(regression.ok()) << regression.status().ToString();
  EXPECT_EQ(regression->rows, 240);
  ASSERT_EQ(regression->columns.size(), 1u);
  EXPECT_TRUE(regression->class_counts.empty());
  EXPECT_GE(regression->columns[0].min, 0.0);  // a sigmoid
  EXPECT_LE(regression->columns[0].max, 1.0);

  NodeTask task = Task("heart_risk", "a");
  task.task = "classification";
  auto classified = Run(task);
  ASSERT_TRUE(classified.ok()) << classified.status().ToString();
  ASSERT_EQ(classified->class_counts.size(), 2u);
  EXPECT_EQ(classified->class_counts[0] + classified->class_counts[1], 240);
  EXPECT_DOUBLE_EQ(classified->columns[0].mean, regression->columns[0].mean);
}

TEST_F(TaskRunnerTest, RegressionTaskDropsClassCountsOfAWideModel) {
  NodeTask task = Task("heart_mlp", "a");
  task.task = "regression";
  auto summary = Run(task);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->columns.size(), 3u);
  EXPECT_TRUE(summary->class_counts.empty());
}

TEST_F(TaskRunnerTest, DefaultDatasetIsTheFirstOne) {
  auto summary = Run(Task("heart_mlp", "default"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 240);
}

TEST_F(TaskRunnerTest, ColumnsChooseTheFeaturesInOrder) {
  // hospital_a with an extra leading "id" column: 9 columns for a model that takes 8.
  std::ifstream in(ExampleDataFile("hospital_a.csv"));
  std::string line;
  std::string content;
  std::getline(in, line);
  const std::string header = line;
  content += "id," + line + "\n";
  for (int i = 0; std::getline(in, line); ++i) {
    if (!line.empty()) content += std::to_string(i) + "," + line + "\n";
  }
  ASSERT_TRUE(datasets_.Add("wide", Write("wide.csv", content)).ok());

  auto all = Run(Task("heart_mlp", "wide"));
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(all.status().message(),
            "dataset 'wide': wide.csv line 1 (header), column 9 'smoker': the header has 9 "
            "feature columns but model 'heart_mlp' expects 8 (choose them with \"columns\")");

  NodeTask task = Task("heart_mlp", "wide");
  task.columns = {"age",         "bmi",     "systolic_bp", "diastolic_bp",
                  "cholesterol", "glucose", "heart_rate",  "smoker"};
  auto chosen = Run(task);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_EQ(chosen->rows, 240);
  EXPECT_THAT(chosen->class_counts, ElementsAre(125, 93, 22));

  // Another order feeds the model other features: other figures.
  task.columns = {"smoker",       "heart_rate",  "glucose", "cholesterol",
                  "diastolic_bp", "systolic_bp", "bmi",     "age"};
  auto reordered = Run(task);
  ASSERT_TRUE(reordered.ok()) << reordered.status().ToString();
  EXPECT_NE(reordered->columns[0].mean, chosen->columns[0].mean);
}

TEST_F(TaskRunnerTest, TooFewColumnsIsAWidthMismatch) {
  NodeTask task = Task("heart_risk", "a");
  task.columns = {"age", "bmi", "smoker"};
  auto summary = Run(task);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(),
            "dataset 'a': \"columns\" selects 3 feature columns but model 'heart_risk' "
            "expects 8");
}

TEST_F(TaskRunnerTest, UnknownColumnIsInvalidArgumentNamingIt) {
  NodeTask task = Task("heart_risk", "a");
  task.columns = {"age",         "bmi",     "systolic_bp", "diastolic_bp",
                  "cholesterol", "glucose", "heart_rate",  "weight"};
  auto summary = Run(task);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(summary.status().message(), HasSubstr("dataset 'a'"));
  EXPECT_THAT(summary.status().message(), HasSubstr("weight"));
}

TEST_F(TaskRunnerTest, PreCancelledTokenIsCancelled) {
  CancelToken cancel;
  cancel.Cancel();
  auto summary = RunSummaryTask(models_, datasets_, Task("heart_mlp", "a"), cancel);
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kCancelled);
}

TEST_F(TaskRunnerTest, MissingModelIsNotFoundNamingIt) {
  auto summary = Run(Task("no_such_model", "a"));
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(summary.status().message(), HasSubstr("no_such_model"));
}

TEST_F(TaskRunnerTest, MissingDatasetIsNotFoundNamingIt) {
  auto summary = Run(Task("heart_mlp", "hospital_z"));
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(summary.status().message(), HasSubstr("hospital_z"));
  EXPECT_THAT(summary.status().message(), HasSubstr("this node has: a"));
}

TEST_F(TaskRunnerTest, BadRowIsInvalidArgumentNamingTheLine) {
  fs::path path = Write("bad.csv", "a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,8\n");
  ASSERT_TRUE(datasets_.Add("bad", path).ok());
  // The file goes bad after the node validated it.
  Write("bad.csv", "a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,8\n1,2,3,x,5,6,7,8\n");
  auto summary = Run(Task("heart_risk", "bad"));
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(summary.status().message(), HasSubstr("line 3"));
}

TEST_F(TaskRunnerTest, NonFiniteOutputsAreAnErrorNamingTheRowAndTheCause) {
  std::string content = "a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,8\n";
  content += "3e38,-3e38,3e38,-3e38,3e38,-3e38,3e38,-3e38\n";
  ASSERT_TRUE(datasets_.Add("huge", Write("huge.csv", content)).ok());
  auto summary = Run(Task("heart_mlp", "huge"));
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(summary.status().message(),
            "model 'heart_mlp' gave a non-finite output (NaN or infinity) for row 2 of dataset "
            "'huge': the row holds values near float's limits (about 3.4e38)");
}

TEST_F(TaskRunnerTest, DatasetBelowMinSamplesIsRefusedOnlyForSummaryTasks) {
  std::string content = "age,bmi,systolic_bp,diastolic_bp,cholesterol,glucose,heart_rate,smoker\n";
  for (int i = 0; i < 7; ++i) content += "50,25,120,80,200,100,70,0\n";
  ASSERT_TRUE(datasets_.Add("small", Write("small.csv", content)).ok());
  CancelToken cancel;
  auto refused = RunNodeTask(models_, datasets_, Task("heart_mlp", "small"), cancel);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.status().message(),
            "dataset 'small' has 7 rows, fewer than this node's min_samples 10");
  EXPECT_EQ(CheckNodePolicy(NodePolicy{}, datasets_, Task("heart_mlp", "small")).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(CheckNodePolicy({.min_samples = 7}, datasets_, Task("heart_mlp", "small")).ok());
  auto allowed = RunNodeTask(models_, datasets_, Task("heart_mlp", "small"), cancel,
                             NodePolicy{.min_samples = 1});
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(ResultRows(*allowed), 7);
  // The whole dataset counts, not the batch.
  EXPECT_TRUE(RunNodeTask(models_, datasets_, Task("heart_mlp", "a"), cancel,
                          NodePolicy{.min_samples = 240}, 16)
                  .ok());
  EXPECT_FALSE(RunNodeTask(models_, datasets_, Task("heart_mlp", "a"), cancel,
                           NodePolicy{.min_samples = 241})
                   .ok());
}

TEST_F(TaskRunnerTest, DifferentialPrivacyClipsAndAddsNoise) {
  NodeTask task = Task("heart_mlp", "a");
  auto exact = Run(task);
  ASSERT_TRUE(exact.ok());
  // Clipping to a band below every output's max shows in the max; noise at a tiny epsilon
  // makes two runs differ; the figures stay in the clip range.
  task.differential_privacy = DifferentialPrivacy{.epsilon = 0.1, .clip_lo = 0, .clip_hi = 0.05};
  auto a = Run(task);
  auto b = Run(task);
  ASSERT_TRUE(a.ok() && b.ok()) << a.status().ToString();
  EXPECT_EQ(a->rows, 240);
  // Noisy means clipped to the band can land on its edge in both runs: four runs, every
  // column, and not all the same.
  auto means = [](const Summary& s) {
    std::vector<double> m;
    for (const auto& c : s.columns) m.push_back(c.mean);
    return m;
  };
  std::set<std::vector<double>> distinct{means(*a), means(*b)};
  for (int i = 0; i < 2; ++i) {
    auto more = Run(task);
    ASSERT_TRUE(more.ok());
    distinct.insert(means(*more));
  }
  EXPECT_GT(distinct.size(), 1u);
  for (const auto& c : a->columns) {
    EXPECT_GE(c.mean, 0);
    EXPECT_LE(c.mean, 0.05);
    EXPECT_EQ(c.max, 0.05);
    EXPECT_EQ(c.min, 0);
  }
  // A large epsilon keeps the means close to the exact (clipped to [0, 1]: outputs are
  // probabilities, so clipping changes nothing): scale = 1 * 7 / 240 / 1e4 per mean.
  task.differential_privacy = DifferentialPrivacy{.epsilon = 1e4, .clip_lo = 0, .clip_hi = 1};
  auto close = Run(task);
  ASSERT_TRUE(close.ok());
  for (size_t j = 0; j < exact->columns.size(); ++j) {
    EXPECT_NEAR(close->columns[j].mean, exact->columns[j].mean, 1e-3) << j;
  }
  task.differential_privacy->epsilon = 0;
  EXPECT_EQ(Run(task).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TaskRunnerTest, EmptyDatasetGivesZeroRows) {
  ASSERT_TRUE(datasets_.Add("empty", Write("empty.csv", "a,b,c,d,e,f,g,h\n")).ok());
  auto summary = Run(Task("heart_mlp", "empty"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 0);
}

// Comparative tasks: heart_mlp, a byte copy of it, heart_risk, and "const_mid", a model that
// says [0.25, 0.75, 0] (class 1) for every row, in a models folder of the test's own.
class ComparativeTaskTest : public TaskRunnerTest {
 protected:
  void SetUp() override {
    TaskRunnerTest::SetUp();
    const fs::path dir = OwnModelsDir();
    fs::copy_file(ExampleModelsDir() / "heart_mlp.onnx", dir / "heart_mlp_copy.onnx");
    core::testing::OnnxModelBuilder constant;
    constant.Input("features", {core::testing::kBatch, 8})
        .Initializer("w", {8, 3}, std::vector<float>(24, 0.0f))
        .Initializer("b", {3}, {0.25f, 0.75f, 0.0f})
        .Output("output");
    constant.Node("Gemm", {"features", "w", "b"}, {"output"});
    Write("models/const_mid.onnx", constant.Bytes());
    own_models_ = std::make_unique<ModelRepository>(dir);
  }

  static NodeTask Comparative(std::vector<std::string> models,
                              ConsensusMethod method = ConsensusMethod::kMajorityVote) {
    NodeTask t = Task(models.at(0), "a");
    t.kind = NodeTaskKind::kComparative;
    t.model_ids = std::move(models);
    t.consensus.method = method;
    return t;
  }

  Result<ConsensusResult> Vote(const NodeTask& task, int64_t batch_rows = 4096) {
    CancelToken cancel;
    return RunComparativeTask(*own_models_, datasets_, task, cancel, batch_rows);
  }

  std::unique_ptr<ModelRepository> own_models_;
};

TEST_F(ComparativeTaskTest, IdenticalModelsAgreeOnEveryRow) {
  auto r = Vote(Comparative({"heart_mlp", "heart_mlp_copy"}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows, 240);
  EXPECT_EQ(r->classes, 3);
  EXPECT_THAT(r->class_counts, ElementsAre(125, 93, 22));  // heart_mlp's own classes
  EXPECT_EQ(r->agreement_level, 1.0);
  EXPECT_THAT(r->model_agreement, ElementsAre(1.0, 1.0));
  EXPECT_THAT(r->pairwise_agreement[0], ElementsAre(1.0, 1.0));
}

TEST_F(ComparativeTaskTest, MajorityVoteOfTwoBreaksTiesToTheLowestClassInAnyBatchSize) {
  // heart_mlp says 0, 1, 2 on 125, 93, 22 rows; const_mid always says 1. Where they differ
  // the vote is a tie: class 0 beats 1, and 1 beats 2.
  for (int64_t batch : {4096, 7, 1}) {
    auto r = Vote(Comparative({"heart_mlp", "const_mid"}), batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_THAT(r->class_counts, ElementsAre(125, 93 + 22, 0)) << batch;
    EXPECT_DOUBLE_EQ(r->agreement_level, (93.0 * 2 + 125 + 22) / 480.0);
    EXPECT_THAT(r->model_agreement, ElementsAre((125.0 + 93) / 240, (93.0 + 22) / 240));
    EXPECT_THAT(r->pairwise_agreement[0], ElementsAre(1.0, 93.0 / 240));
    EXPECT_THAT(r->model_class_counts[0], ElementsAre(125, 93, 22));
    EXPECT_THAT(r->model_class_counts[1], ElementsAre(0, 240, 0));
  }
}

TEST_F(ComparativeTaskTest, AverageMatchesTheModelsRunOnAllRowsAtOnce) {
  auto model = Model::LoadFile(ExampleModelsDir() / "heart_mlp.onnx");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto out = (*model)->Run(ReadCsv(ExampleDataFile("hospital_a.csv")));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<int64_t> want(3, 0);
  const float constant[3] = {0.25f, 0.75f, 0.0f};
  for (Eigen::Index r = 0; r < out->rows(); ++r) {
    int best = 0;
    double best_sum = -1;
    for (int c = 0; c < 3; ++c) {
      const double sum = double{(*out)(r, c)} + constant[c];
      if (sum > best_sum) best = c, best_sum = sum;
    }
    ++want[static_cast<size_t>(best)];
  }
  auto r = Vote(Comparative({"heart_mlp", "const_mid"}, ConsensusMethod::kAverage), 7);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->class_counts, want);
  EXPECT_NE(want, (std::vector<int64_t>{125, 115, 0}));  // not the vote's answer
}

TEST_F(ComparativeTaskTest, ExpertReviewListsTheRowsWhereTheModelsDisagree) {
  NodeTask task = Comparative({"heart_mlp", "const_mid"}, ConsensusMethod::kExpertReview);
  auto r = Vote(task, 5);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->review_count, 125 + 22);
  ASSERT_EQ(r->review_rows.size(), 147u);
  EXPECT_TRUE(std::is_sorted(r->review_rows.begin(), r->review_rows.end()));
  EXPECT_LT(r->review_rows.back(), 240);
  // Each flagged row is one where heart_mlp does not say class 1.
  auto model = Model::LoadFile(ExampleModelsDir() / "heart_mlp.onnx");
  ASSERT_TRUE(model.ok());
  auto out = (*model)->Run(ReadCsv(ExampleDataFile("hospital_a.csv")));
  ASSERT_TRUE(out.ok());
  std::vector<int64_t> want;
  for (Eigen::Index row = 0; row < out->rows(); ++row) {
    Eigen::Index cls;
    out->row(row).maxCoeff(&cls);
    if (cls != 1) want.push_back(row);
  }
  EXPECT_EQ(r->review_rows, want);
}

TEST_F(ComparativeTaskTest, ModelsOfDifferentOutputWidthsAreInvalidArgumentNamingBoth) {
  auto r = Vote(Comparative({"heart_mlp", "heart_risk"}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "models 'heart_mlp' and 'heart_risk' have different output widths (3 and 1): the "
            "models compared must have the same outputs");
}

TEST_F(ComparativeTaskTest, ErrorsOfTheModelsAndTheData) {
  auto missing = Vote(Comparative({"heart_mlp", "ghost"}));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("ghost"));

  NodeTask narrow = Comparative({"heart_mlp", "const_mid"});
  narrow.columns = {"age", "bmi"};
  auto width = Vote(narrow);
  EXPECT_EQ(width.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(width.status().message(),
              HasSubstr("\"columns\" selects 2 feature columns but model 'heart_mlp' expects 8"));

  NodeTask one = Comparative({"heart_mlp", "const_mid"});
  one.model_ids = {"heart_mlp"};
  EXPECT_EQ(Vote(one).status().code(), StatusCode::kInvalidArgument);

  CancelToken cancel;
  cancel.Cancel();
  auto cancelled =
      RunComparativeTask(*own_models_, datasets_, Comparative({"heart_mlp", "const_mid"}), cancel);
  EXPECT_EQ(cancelled.status().code(), StatusCode::kCancelled);
}

TEST_F(ComparativeTaskTest, NodeTaskDocumentHoldsFiguresOnly) {
  CancelToken cancel;
  const NodeTask task = Comparative({"heart_mlp", "const_mid"}, ConsensusMethod::kUnanimous);
  auto vote = RunNodeTask(*own_models_, datasets_, task, cancel);
  ASSERT_TRUE(vote.ok()) << vote.status().ToString();
  ASSERT_TRUE(std::holds_alternative<ConsensusResult>(*vote));
  const nlohmann::json doc_json = TaskDocument(task, *vote, true);
  const nlohmann::json* doc = &doc_json;
  EXPECT_EQ((*doc)["rows"], 240);
  EXPECT_EQ((*doc)["class_counts"], nlohmann::json::parse("[0, 93, 0]"));
  EXPECT_EQ((*doc)["no_consensus"], 147);
  EXPECT_FALSE(doc->contains("review_rows"));
  // A summary task's document is the summary.
  auto summary = RunNodeTask(*own_models_, datasets_, Task("heart_mlp", "a"), cancel);
  ASSERT_TRUE(summary.ok());
  ASSERT_TRUE(std::holds_alternative<Summary>(*summary));
  EXPECT_EQ(TaskDocument(Task("heart_mlp", "a"), *summary, true)["class_counts"],
            nlohmann::json::parse("[125, 93, 22]"));
}

// Pipeline steps: heart_mlp and "double3", a model that doubles its 3 inputs, in a models
// folder of the test's own.
class StepTaskTest : public TaskRunnerTest {
 protected:
  void SetUp() override {
    TaskRunnerTest::SetUp();
    const fs::path dir = OwnModelsDir();
    core::testing::OnnxModelBuilder doubler;
    doubler.Input("x", {core::testing::kBatch, 3})
        .Initializer("w", {3, 3}, {2, 0, 0, 0, 2, 0, 0, 0, 2})
        .Initializer("b", {3}, {0, 0, 0})
        .Output("y");
    doubler.Node("Gemm", {"x", "w", "b"}, {"y"});
    Write("models/double3.onnx", doubler.Bytes());
    own_models_ = std::make_unique<ModelRepository>(dir);
  }

  static NodeTask Step(const std::string& model, std::vector<std::string> through = {}) {
    NodeTask t = Task(model, "a");
    t.kind = NodeTaskKind::kStep;
    t.through = std::move(through);
    return t;
  }

  Result<StepOutput> RunStep(const NodeTask& task, int64_t batch_rows = 4096) {
    CancelToken cancel;
    return RunStepTask(*own_models_, datasets_, task, cancel, batch_rows);
  }

  std::unique_ptr<ModelRepository> own_models_;
};

TEST_F(StepTaskTest, DatasetRowsGoThroughTheEarlierModelsAndOnlyFiguresLeave) {
  auto first = RunStep(Step("heart_mlp"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->summary.rows, 240);
  EXPECT_EQ(first->width, 3);
  EXPECT_FALSE(first->rows.has_value());
  auto direct = Run(Task("heart_mlp", "a"));
  ASSERT_TRUE(direct.ok());
  // The same figures as a summary task's (to the last bits, which threads may change).
  const Summary* same = &first->summary;
  EXPECT_EQ(same->rows, direct->rows);
  EXPECT_EQ(same->class_counts, direct->class_counts);
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(same->columns[c].mean, direct->columns[c].mean, 1e-9);
    EXPECT_NEAR(same->columns[c].variance, direct->columns[c].variance, 1e-9);
  }

  for (int64_t batch : {4096, 7}) {
    auto doubled = RunStep(Step("double3", {"heart_mlp"}), batch);
    ASSERT_TRUE(doubled.ok()) << doubled.status().ToString();
    EXPECT_FALSE(doubled->rows.has_value());
    const Summary* s = &doubled->summary;
    EXPECT_EQ(s->rows, 240);
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_NEAR(s->columns[c].mean, 2 * direct->columns[c].mean, 1e-6) << batch;
      EXPECT_NEAR(s->columns[c].max, 2 * direct->columns[c].max, 1e-6) << batch;
    }
    EXPECT_EQ(s->class_counts, direct->class_counts);
  }
}

TEST_F(StepTaskTest, SentRowsComeBackAsOutputRows) {
  NodeTask task = Step("double3");
  Matrix rows(2, 3);
  rows << 1, 2, 3, -1, 0.5f, 4;
  task.input_rows = rows;
  auto out = RunStep(task);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(out->rows.has_value());
  Matrix want(2, 3);
  want << 2, 4, 6, -2, 1, 8;
  EXPECT_EQ(*out->rows, want);
  EXPECT_EQ(out->width, 3);
  EXPECT_EQ(out->summary.class_counts, std::vector<int64_t>({0, 0, 2}));
  // Its document gives the shape, and the rows only when they travel inside it.
  const nlohmann::json binary = TaskDocument(task, *out, false);
  EXPECT_EQ(binary["output_shape"], nlohmann::json({2, 3}));
  EXPECT_FALSE(binary.contains("output_rows"));
  EXPECT_EQ(TaskDocument(task, *out, true)["output_rows"],
            nlohmann::json({{2.0, 4.0, 6.0}, {-2.0, 1.0, 8.0}}));
}

TEST_F(StepTaskTest, WidthsThatDoNotChainAreInvalidArgumentNamingTheModel) {
  auto doc = RunStep(Step("heart_risk", {"heart_mlp"}));
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.status().message(), "model 'heart_risk' expects 8 input columns, got 3");
  NodeTask task = Step("heart_mlp");
  task.input_rows = Matrix::Zero(1, 3);
  EXPECT_EQ(RunStep(task).status().message(), "model 'heart_mlp' expects 8 input columns, got 3");
  EXPECT_EQ(RunStep(Step("double3", {"ghost"})).status().code(), StatusCode::kNotFound);
}

TEST_F(StepTaskTest, MinSamplesGuardsDatasetStepsButNotSentRows) {
  CancelToken cancel;
  const NodePolicy strict{.min_samples = 241};
  auto refused = RunNodeTask(*own_models_, datasets_, Step("heart_mlp"), cancel, strict);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckNodePolicy(strict, datasets_, Step("heart_mlp")).code(),
            StatusCode::kFailedPrecondition);
  NodeTask sent = Step("double3");
  sent.input_rows = Matrix::Ones(2, 3);
  EXPECT_TRUE(CheckNodePolicy(strict, datasets_, sent).ok());
  EXPECT_TRUE(RunNodeTask(*own_models_, datasets_, sent, cancel, strict).ok());
}

}  // namespace
}  // namespace dim::core
