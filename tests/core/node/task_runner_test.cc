#include "core/node/task_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/infer/model.h"
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

TEST_F(TaskRunnerTest, EmptyDatasetGivesZeroRows) {
  ASSERT_TRUE(datasets_.Add("empty", Write("empty.csv", "a,b,c,d,e,f,g,h\n")).ok());
  auto summary = Run(Task("heart_mlp", "empty"));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->rows, 0);
}

}  // namespace
}  // namespace dim::core
