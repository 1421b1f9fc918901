#include "core/stats/node_mean_aggregation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace dim::core {
namespace {

using ::testing::HasSubstr;

// A one-column node summary.
Summary Node(int64_t rows, double mean, double variance, double min, double max,
             std::vector<int64_t> counts = {}) {
  return Summary{rows, {ColumnSummary{mean, variance, min, max}}, std::move(counts)};
}

TEST(MedianOfNodes, OddCountIsTheMiddleMeanAndRobustToAnOutlier) {
  std::vector<Summary> parts = {Node(10, 1.0, 0.5, 0, 2, {4, 6}),
                                Node(20, 1000.0, 9, 900, 1100, {1, 19}),
                                Node(5, 2.0, 0.25, 1, 3, {5, 0})};
  auto s = MedianOfNodes(parts);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->rows, 35);
  EXPECT_EQ(s->columns[0].mean, 2.0);
  EXPECT_EQ(s->columns[0].variance, 0.5);
  EXPECT_EQ(s->columns[0].min, 0);
  EXPECT_EQ(s->columns[0].max, 1100);
  EXPECT_EQ(s->class_counts, (std::vector<int64_t>{10, 25}));
}

TEST(MedianOfNodes, EvenCountAveragesTheTwoMiddleOnesAndTiesAreFine) {
  std::vector<Summary> parts = {Node(10, 4, 1, 0, 9), Node(10, 1, 1, 0, 9), Node(10, 2, 3, 0, 9),
                                Node(10, 2, 5, 0, 9)};
  auto s = MedianOfNodes(parts);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->columns[0].mean, 2.0);      // 1 2 2 4: (2 + 2) / 2
  EXPECT_EQ(s->columns[0].variance, 2.0);  // 1 1 3 5: (1 + 3) / 2
  std::vector<Summary> two = {Node(10, 1, 1, 0, 9), Node(10, 4, 1, 0, 9)};
  EXPECT_EQ(MedianOfNodes(two)->columns[0].mean, 2.5);
}

TEST(TrimmedMeanOfNodes, DropsFloorOfTrimTimesNFromEachEnd) {
  std::vector<Summary> parts;
  for (double m : {5.0, 1.0, 100.0, 2.0, 3.0, -50.0, 4.0, 3.0, 2.0, 1.0}) {
    parts.push_back(Node(10, m, 1, m, m));
  }
  auto s = TrimmedMeanOfNodes(parts, 0.1);  // floor(1.0) = 1 per end: drop -50 and 100
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->columns[0].mean, (1 + 1 + 2 + 2 + 3 + 3 + 4 + 5) / 8.0);
  EXPECT_EQ(TrimmedPerEnd(10, 0.1), 1u);
  EXPECT_EQ(TrimmedPerEnd(10, 0.25), 2u);
  EXPECT_EQ(TrimmedPerEnd(3, 0.3), 0u);
  s = TrimmedMeanOfNodes(parts, 0.25);  // 2 per end: drop -50, 1, 5, 100 (ties: one 1 stays)
  EXPECT_DOUBLE_EQ(s->columns[0].mean, (1 + 2 + 2 + 3 + 3 + 4) / 6.0);
  s = TrimmedMeanOfNodes(parts, 0);
  EXPECT_DOUBLE_EQ(s->columns[0].mean, 71.0 / 10);
  EXPECT_EQ(TrimmedMeanOfNodes(parts, 0.5).status().code(), StatusCode::kInvalidArgument);
}

TEST(WeightedAverageOfNodes, NormalisesWeightsAndGivesTheMixtureVariance) {
  std::vector<Summary> parts = {Node(10, 1.0, 0.5, 0, 2), Node(30, 3.0, 1.5, 1, 5)};
  std::vector<double> w = {1, 3};
  auto s = WeightedAverageOfNodes(parts, w);
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->columns[0].mean, 2.5);
  // 0.25 * (0.5 + 1.5^2) + 0.75 * (1.5 + 0.5^2)
  EXPECT_DOUBLE_EQ(s->columns[0].variance, 0.25 * (0.5 + 2.25) + 0.75 * (1.5 + 0.25));
  // Row-count weights reproduce the pooled figures.
  std::vector<double> rows = {10, 30};
  auto pooled = PoolSummaries(parts);
  auto by_rows = WeightedAverageOfNodes(parts, rows);
  EXPECT_NEAR(by_rows->columns[0].mean, pooled->columns[0].mean, 1e-12);
  EXPECT_NEAR(by_rows->columns[0].variance, pooled->columns[0].variance, 1e-12);
}

TEST(WeightedAverageOfNodes, HugeWeightsDoNotOverflowTheirSum) {
  std::vector<Summary> parts = {Node(10, 1.0, 0.5, 0, 2), Node(30, 3.0, 1.5, 1, 5)};
  std::vector<double> huge = {1.7e308, 1.7e308};
  auto s = WeightedAverageOfNodes(parts, huge);
  ASSERT_TRUE(s.ok());
  EXPECT_DOUBLE_EQ(s->columns[0].mean, 2.0);
}

TEST(WeightedAverageOfNodes, RejectsBadWeights) {
  std::vector<Summary> parts = {Node(10, 1.0, 0.5, 0, 2), Node(30, 3.0, 1.5, 1, 5)};
  std::vector<double> one = {1}, negative = {1, -1}, zero = {0, 0};
  EXPECT_THAT(WeightedAverageOfNodes(parts, one).status().message(),
              HasSubstr("1 weights for 2 node summaries"));
  EXPECT_EQ(WeightedAverageOfNodes(parts, negative).status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(WeightedAverageOfNodes(parts, zero).status().message(), HasSubstr("all zero"));
}

TEST(NodeMeanAggregation, RejectsPartsThatDoNotFit) {
  EXPECT_EQ(MedianOfNodes({}).status().code(), StatusCode::kInvalidArgument);
  std::vector<Summary> widths = {Node(10, 1, 1, 0, 2), Summary{10, {{}, {}}, {}}};
  EXPECT_THAT(MedianOfNodes(widths).status().message(),
              HasSubstr("summary 1 has 2 columns, the others 1"));
  std::vector<Summary> empty = {Node(10, 1, 1, 0, 2), Summary{}};
  EXPECT_THAT(MedianOfNodes(empty).status().message(), HasSubstr("summary 1 has no rows"));
}

}  // namespace
}  // namespace dim::core
