#include "core/stats/summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace dim::core {
namespace {

using ::testing::ElementsAre;
using json = nlohmann::json;

// Figures computed the plain way, independently of the code under test: two passes in long
// double over all rows.
struct Reference {
  std::vector<long double> mean, variance, min, max;
};

Reference TwoPass(const Matrix& m) {
  Reference r;
  const auto n = static_cast<long double>(m.rows());
  for (Eigen::Index j = 0; j < m.cols(); ++j) {
    long double sum = 0, lo = m(0, j), hi = m(0, j);
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      sum += m(i, j);
      lo = std::min<long double>(lo, m(i, j));
      hi = std::max<long double>(hi, m(i, j));
    }
    long double mean = sum / n;
    long double ss = 0;
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
      long double d = m(i, j) - mean;
      ss += d * d;
    }
    r.mean.push_back(mean);
    r.variance.push_back(ss / n);
    r.min.push_back(lo);
    r.max.push_back(hi);
  }
  return r;
}

double RelativeError(double got, long double want) {
  long double scale = std::max<long double>(std::fabs(want), 1e-300L);
  return static_cast<double>(std::fabs(static_cast<long double>(got) - want) / scale);
}

void ExpectMatches(const Summary& s, const Matrix& all, double tolerance) {
  Reference r = TwoPass(all);
  ASSERT_EQ(s.rows, all.rows());
  ASSERT_EQ(s.columns.size(), static_cast<size_t>(all.cols()));
  for (size_t j = 0; j < s.columns.size(); ++j) {
    EXPECT_LE(RelativeError(s.columns[j].mean, r.mean[j]), tolerance) << "column " << j;
    EXPECT_LE(RelativeError(s.columns[j].variance, r.variance[j]), tolerance) << "column " << j;
    EXPECT_EQ(s.columns[j].min, static_cast<double>(r.min[j])) << "column " << j;
    EXPECT_EQ(s.columns[j].max, static_cast<double>(r.max[j])) << "column " << j;
  }
}

// rows x cols of normal noise around large, distinct offsets (a test of numerical stability).
Matrix RandomMatrix(int64_t rows, int64_t cols, unsigned seed, float offset) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> noise(0.0f, 3.0f);
  Matrix m(rows, cols);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) m(i, j) = offset * static_cast<float>(j + 1) + noise(gen);
  }
  return m;
}

Matrix Stack(const std::vector<Matrix>& parts) {
  Eigen::Index rows = 0;
  for (const Matrix& p : parts) rows += p.rows();
  Matrix all(rows, parts.front().cols());
  Eigen::Index at = 0;
  for (const Matrix& p : parts) {
    if (p.rows() == 0) continue;
    all.middleRows(at, p.rows()) = p;
    at += p.rows();
  }
  return all;
}

Summary Summarise(const Matrix& m, bool count_classes, int64_t batch_rows) {
  SummaryBuilder builder(count_classes);
  for (int64_t at = 0; at < m.rows(); at += batch_rows) {
    int64_t n = std::min(batch_rows, static_cast<int64_t>(m.rows()) - at);
    Matrix batch = m.middleRows(at, n);
    EXPECT_TRUE(builder.Add(batch).ok());
  }
  return builder.Finish();
}

TEST(SummaryBuilder, EmptyHasNoRowsColumnsOrClasses) {
  SummaryBuilder builder(true);
  EXPECT_TRUE(builder.Add(Matrix(0, 3)).ok());
  Summary s = builder.Finish();
  EXPECT_EQ(s.rows, 0);
  EXPECT_TRUE(s.columns.empty());
  EXPECT_TRUE(s.class_counts.empty());
}

TEST(SummaryBuilder, SmallExampleByHand) {
  Matrix m(4, 2);
  m << 1, -2,  //
      2, -2,   //
      3, 10,   //
      4, -2;
  SummaryBuilder builder(false);
  ASSERT_TRUE(builder.Add(m).ok());
  Summary s = builder.Finish();
  EXPECT_EQ(s.rows, 4);
  ASSERT_EQ(s.columns.size(), 2u);
  EXPECT_DOUBLE_EQ(s.columns[0].mean, 2.5);
  EXPECT_DOUBLE_EQ(s.columns[0].variance, 1.25);  // population variance, divides by 4
  EXPECT_EQ(s.columns[0].min, 1.0);
  EXPECT_EQ(s.columns[0].max, 4.0);
  EXPECT_DOUBLE_EQ(s.columns[1].mean, 1.0);
  EXPECT_DOUBLE_EQ(s.columns[1].variance, 27.0);  // (9 + 9 + 81 + 9) / 4
  EXPECT_EQ(s.columns[1].min, -2.0);
  EXPECT_EQ(s.columns[1].max, 10.0);
  EXPECT_TRUE(s.class_counts.empty());
}

TEST(SummaryBuilder, ClassesComeFromTheLabelsWhenTheModelGivesThem) {
  // A classifier's label may disagree with the highest probability (a threshold on one
  // score column, say): the label counts; one outside 0..classes-1 falls back to argmax.
  Matrix m(4, 2);
  m << 0.6, 0.4,  //
      0.6, 0.4,   //
      0.2, 0.8,   //
      0.9, 0.1;
  const std::vector<int64_t> labels = {1, 0, 1, 42};
  SummaryBuilder builder(true);
  ASSERT_TRUE(builder.Add(m, labels).ok());
  EXPECT_EQ(builder.Finish().class_counts, (std::vector<int64_t>{2, 2}));
  const std::vector<int64_t> short_labels = {1};
  EXPECT_EQ(SummaryBuilder(true).Add(m, short_labels).code(), StatusCode::kInvalidArgument);
}

TEST(SummaryBuilder, OneRowHasZeroVariance) {
  Matrix m(1, 2);
  m << 7.5f, -3.0f;
  SummaryBuilder builder(false);
  ASSERT_TRUE(builder.Add(m).ok());
  Summary s = builder.Finish();
  EXPECT_EQ(s.rows, 1);
  EXPECT_EQ(s.columns[0].mean, 7.5);
  EXPECT_EQ(s.columns[0].variance, 0.0);
  EXPECT_EQ(s.columns[1].min, -3.0);
  EXPECT_EQ(s.columns[1].max, -3.0);
}

TEST(SummaryBuilder, MatchesTwoPassInOneBatch) {
  Matrix m = RandomMatrix(5000, 3, 1, 1000.0f);
  ExpectMatches(Summarise(m, false, m.rows()), m, 1e-12);
}

TEST(SummaryBuilder, MatchesTwoPassWhateverTheBatching) {
  Matrix m = RandomMatrix(3001, 4, 2, 10000.0f);
  for (int64_t batch : {1, 2, 7, 100, 1000, 3001, 5000}) {
    SCOPED_TRACE(batch);
    ExpectMatches(Summarise(m, false, batch), m, 1e-12);
  }
}

// A large offset with a small spread: the naive sum-of-squares formula loses every digit
// here, the streaming update must not.
TEST(SummaryBuilder, StableWithLargeOffset) {
  Matrix m(1000, 1);
  for (int i = 0; i < 1000; ++i) m(i, 0) = 1.0e6f + static_cast<float>(i % 4) * 0.25f;
  Summary s = Summarise(m, false, 64);
  EXPECT_NEAR(s.columns[0].mean, 1.0e6 + 0.375, 1e-9);
  EXPECT_NEAR(s.columns[0].variance, 0.078125, 1e-12);  // of {0, .25, .5, .75}
}

TEST(SummaryBuilder, RejectsAnotherWidthAndIgnoresEmptyBatches) {
  SummaryBuilder builder(false);
  EXPECT_TRUE(builder.Add(Matrix(0, 5)).ok());  // does not fix the width
  Matrix two(2, 2);
  two << 1, 2, 3, 4;
  ASSERT_TRUE(builder.Add(two).ok());
  EXPECT_TRUE(builder.Add(Matrix(0, 7)).ok());
  Status status = builder.Add(Matrix::Zero(1, 3));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "outputs have 3 columns, earlier batches had 2");
  // The rejected batch left no trace.
  Summary s = builder.Finish();
  EXPECT_EQ(s.rows, 2);
  EXPECT_DOUBLE_EQ(s.columns[1].mean, 3.0);
  EXPECT_DOUBLE_EQ(s.columns[1].variance, 1.0);
}

TEST(SummaryBuilder, RejectsRowsWithoutColumns) {
  SummaryBuilder builder(true);
  Status status = builder.Add(Matrix(3, 0));
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(builder.Finish().rows, 0);
}

TEST(SummaryBuilder, CountsClassesOfOneColumnByThreshold) {
  Matrix m(7, 1);
  m << 0.49f, 0.5f, 0.51f, -1.0f, 2.0f, 0.0f, 0.4999f;
  Summary s = Summarise(m, true, 3);
  EXPECT_THAT(s.class_counts, ElementsAre(4, 3));
}

TEST(SummaryBuilder, CountsArgmaxClassesWithTiesToTheLowestIndex) {
  Matrix m(8, 3);
  m << 0.1f, 0.7f, 0.2f,    // 1
      0.5f, 0.2f, 0.3f,     // 0
      0.0f, 0.0f, 1.0f,     // 2
      1.0f, 1.0f, 0.0f,     // tie 0/1 -> 0
      0.0f, 2.0f, 2.0f,     // tie 1/2 -> 1
      3.0f, 3.0f, 3.0f,     // tie all -> 0
      -5.0f, -1.0f, -1.0f,  // tie 1/2 -> 1
      -3.0f, -2.0f, -1.0f;  // 2
  Summary s = Summarise(m, true, 3);
  EXPECT_THAT(s.class_counts, ElementsAre(3, 3, 2));
}

TEST(SummaryBuilder, NoClassCountsWhenNotAsked) {
  Matrix m = RandomMatrix(10, 3, 3, 1.0f);
  EXPECT_TRUE(Summarise(m, false, 4).class_counts.empty());
}

TEST(PoolSummaries, ThreePartsEqualThePooledRows) {
  std::vector<Matrix> parts = {RandomMatrix(1234, 3, 10, 50.0f), RandomMatrix(17, 3, 11, 5000.0f),
                               RandomMatrix(4000, 3, 12, -300.0f)};
  std::vector<Summary> summaries;
  for (const Matrix& p : parts) summaries.push_back(Summarise(p, true, 256));
  Result<Summary> pooled = PoolSummaries(summaries);
  ASSERT_TRUE(pooled.ok()) << pooled.status().ToString();
  Matrix all = Stack(parts);
  ExpectMatches(*pooled, all, 1e-9);

  // Class counts are the sums, which equal the counts of all rows at once.
  Summary direct = Summarise(all, true, all.rows());
  EXPECT_EQ(pooled->class_counts, direct.class_counts);
  int64_t counted = 0;
  for (int64_t c : pooled->class_counts) counted += c;
  EXPECT_EQ(counted, all.rows());
}

TEST(PoolSummaries, OrderDoesNotMatter) {
  std::vector<Summary> s = {Summarise(RandomMatrix(100, 2, 20, 1.0f), false, 100),
                            Summarise(RandomMatrix(900, 2, 21, 90.0f), false, 100),
                            Summarise(RandomMatrix(5, 2, 22, -7.0f), false, 100)};
  Result<Summary> forward = PoolSummaries(s);
  std::reverse(s.begin(), s.end());
  Result<Summary> backward = PoolSummaries(s);
  ASSERT_TRUE(forward.ok() && backward.ok());
  for (size_t j = 0; j < 2; ++j) {
    EXPECT_NEAR(forward->columns[j].mean, backward->columns[j].mean,
                1e-12 * std::fabs(forward->columns[j].mean));
    EXPECT_NEAR(forward->columns[j].variance, backward->columns[j].variance,
                1e-12 * forward->columns[j].variance);
  }
}

TEST(PoolSummaries, SkipsEmptyParts) {
  Matrix a = RandomMatrix(50, 2, 30, 3.0f);
  Matrix b = RandomMatrix(70, 2, 31, 9.0f);
  // Empty parts carry no columns or class counts, which would not match otherwise.
  std::vector<Summary> parts = {Summary{}, Summarise(a, true, 16), Summary{},
                                Summarise(b, true, 16), Summary{}};
  Result<Summary> pooled = PoolSummaries(parts);
  ASSERT_TRUE(pooled.ok()) << pooled.status().ToString();
  ExpectMatches(*pooled, Stack({a, b}), 1e-9);
  EXPECT_EQ(pooled->class_counts.size(), 2u);
}

TEST(PoolSummaries, NothingToPoolGivesAnEmptySummary) {
  Result<Summary> none = PoolSummaries({});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->rows, 0);
  EXPECT_TRUE(none->columns.empty());
  std::vector<Summary> empties(3);
  Result<Summary> all_empty = PoolSummaries(empties);
  ASSERT_TRUE(all_empty.ok());
  EXPECT_EQ(all_empty->rows, 0);
  EXPECT_TRUE(all_empty->columns.empty());
}

TEST(PoolSummaries, OnePartIsUnchanged) {
  Summary s = Summarise(RandomMatrix(40, 3, 40, 2.0f), true, 8);
  Result<Summary> pooled = PoolSummaries(std::span<const Summary>(&s, 1));
  ASSERT_TRUE(pooled.ok());
  EXPECT_EQ(pooled->rows, s.rows);
  EXPECT_EQ(pooled->class_counts, s.class_counts);
  for (size_t j = 0; j < 3; ++j) {
    EXPECT_DOUBLE_EQ(pooled->columns[j].mean, s.columns[j].mean);
    EXPECT_DOUBLE_EQ(pooled->columns[j].variance, s.columns[j].variance);
    EXPECT_EQ(pooled->columns[j].min, s.columns[j].min);
    EXPECT_EQ(pooled->columns[j].max, s.columns[j].max);
  }
}

TEST(PoolSummaries, PoolsMinMaxAndHandValues) {
  Summary a{2, {{1.0, 1.0, 0.0, 2.0}}, {}};  // rows {0, 2}
  Summary b{2, {{5.0, 1.0, 4.0, 6.0}}, {}};  // rows {4, 6}
  std::vector<Summary> parts = {a, b};
  Result<Summary> pooled = PoolSummaries(parts);
  ASSERT_TRUE(pooled.ok());
  EXPECT_EQ(pooled->rows, 4);
  EXPECT_DOUBLE_EQ(pooled->columns[0].mean, 3.0);
  EXPECT_DOUBLE_EQ(pooled->columns[0].variance, 5.0);  // (9 + 1 + 1 + 9) / 4
  EXPECT_EQ(pooled->columns[0].min, 0.0);
  EXPECT_EQ(pooled->columns[0].max, 6.0);
}

TEST(PoolSummaries, RejectsMismatchedParts) {
  Summary two_columns{3, {{0, 0, 0, 0}, {0, 0, 0, 0}}, {1, 2}};
  Summary three_columns{3, {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}}, {1, 2}};
  Summary three_classes{3, {{0, 0, 0, 0}, {0, 0, 0, 0}}, {1, 1, 1}};
  Summary no_classes{3, {{0, 0, 0, 0}, {0, 0, 0, 0}}, {}};

  std::vector<Summary> columns = {two_columns, three_columns};
  Status status = PoolSummaries(columns).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "summary 1 has 3 columns, the others 2");

  std::vector<Summary> classes = {two_columns, Summary{}, three_classes};
  status = PoolSummaries(classes).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "summary 2 has 3 class counts, the others 2");

  std::vector<Summary> missing = {two_columns, no_classes};
  EXPECT_EQ(PoolSummaries(missing).status().code(), StatusCode::kInvalidArgument);

  Summary negative{-1, {}, {}};
  std::vector<Summary> bad_rows = {two_columns, negative};
  status = PoolSummaries(bad_rows).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "summary 1 has -1 rows");
}

TEST(SummaryJson, WritesEveryFieldWithStd) {
  Summary s{10, {{1.5, 4.0, -1.0, 3.0}, {0.0, 0.25, -0.5, 0.5}}, {6, 4}};
  json j = SummaryToJson(s);
  EXPECT_EQ(j, json::parse(R"({
    "rows": 10,
    "columns": [
      {"mean": 1.5, "variance": 4.0, "std": 2.0, "min": -1.0, "max": 3.0},
      {"mean": 0.0, "variance": 0.25, "std": 0.5, "min": -0.5, "max": 0.5}
    ],
    "class_counts": [6, 4]
  })"));
}

TEST(SummaryJson, LeavesOutEmptyClassCounts) {
  json j = SummaryToJson(Summary{3, {{1, 0, 1, 1}}, {}});
  EXPECT_FALSE(j.contains("class_counts"));
  EXPECT_EQ(j["rows"], 3);
  json empty = SummaryToJson(Summary{});
  EXPECT_EQ(empty, json::parse(R"({"rows": 0, "columns": []})"));
}

TEST(SummaryJson, RoundTripsExactlyThroughText) {
  Summary s = Summarise(RandomMatrix(333, 3, 50, 123.0f), true, 100);
  Result<Summary> back = SummaryFromJson(json::parse(SummaryToJson(s).dump()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->rows, s.rows);
  EXPECT_EQ(back->class_counts, s.class_counts);
  ASSERT_EQ(back->columns.size(), s.columns.size());
  for (size_t j = 0; j < s.columns.size(); ++j) {
    EXPECT_EQ(back->columns[j].mean, s.columns[j].mean);
    EXPECT_EQ(back->columns[j].variance, s.columns[j].variance);
    EXPECT_EQ(back->columns[j].min, s.columns[j].min);
    EXPECT_EQ(back->columns[j].max, s.columns[j].max);
  }

  Result<Summary> no_classes = SummaryFromJson(SummaryToJson(Summary{2, {{1, 0, 1, 1}}, {}}));
  ASSERT_TRUE(no_classes.ok());
  EXPECT_TRUE(no_classes->class_counts.empty());
}

TEST(SummaryJson, AcceptsIntegersForNumbersAndIgnoresStd) {
  Result<Summary> s = SummaryFromJson(json::parse(
      R"({"rows": 2, "columns": [{"mean": 1, "variance": 0, "min": 1, "max": 1, "std": 99}]})"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->columns[0].mean, 1.0);
  EXPECT_EQ(s->columns[0].variance, 0.0);
}

// Each malformed input and the message naming its field.
TEST(SummaryJson, ReportsTheOffendingField) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {R"([1, 2])", "$: expected an object, got array"},
      {R"({"columns": []})", "$.rows: missing required key"},
      {R"({"rows": "3", "columns": []})", "$.rows: expected a non-negative integer, got string"},
      {R"({"rows": 1.5, "columns": []})", "$.rows: expected a non-negative integer, got number"},
      {R"({"rows": -1, "columns": []})", "$.rows: must be >= 0, got -1"},
      {R"({"rows": 1})", "$.columns: missing required key"},
      {R"({"rows": 1, "columns": {}})", "$.columns: expected an array, got object"},
      {R"({"rows": 1, "columns": [3]})", "$.columns[0]: expected an object, got number"},
      {R"({"rows": 1, "columns": [{"mean": 0, "variance": 0, "min": 0, "max": 0},
                                  {"variance": 0, "min": 0, "max": 0}]})",
       "$.columns[1].mean: missing required key"},
      {R"({"rows": 1, "columns": [{"mean": "x", "variance": 0, "min": 0, "max": 0}]})",
       "$.columns[0].mean: expected a number, got string"},
      {R"({"rows": 1, "columns": [{"mean": 0, "variance": null, "min": 0, "max": 0}]})",
       "$.columns[0].variance: expected a number, got null"},
      {R"({"rows": 1, "columns": [{"mean": 0, "variance": 0, "min": true, "max": 0}]})",
       "$.columns[0].min: expected a number, got boolean"},
      {R"({"rows": 1, "columns": [{"mean": 0, "variance": 0, "min": 0}]})",
       "$.columns[0].max: missing required key"},
      {R"({"rows": 1, "columns": [{"mean": 0, "variance": -2, "min": 0, "max": 0}]})",
       "$.columns[0].variance: must be >= 0, got -2.0"},
      {R"({"rows": 1, "columns": [], "class_counts": 3})",
       "$.class_counts: expected an array, got number"},
      {R"({"rows": 1, "columns": [], "class_counts": [1, -1]})",
       "$.class_counts[1]: must be >= 0, got -1"},
      {R"({"rows": 1, "columns": [], "class_counts": [1, 0.5]})",
       "$.class_counts[1]: expected a non-negative integer, got number"},
  };
  for (const auto& [text, message] : cases) {
    Result<Summary> s = SummaryFromJson(json::parse(text));
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_EQ(s.status().message(), message) << text;
  }
}

}  // namespace
}  // namespace dim::core
