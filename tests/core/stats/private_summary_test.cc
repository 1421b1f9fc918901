#include "core/stats/private_summary.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace dim::core {
namespace {

// Records every scale asked for and answers with a fixed value.
class FixedNoise final : public LaplaceNoise {
 public:
  explicit FixedNoise(double value) : value_(value) {}
  double Sample(double scale) override {
    scales.push_back(scale);
    return value_;
  }
  std::vector<double> scales;

 private:
  double value_;
};

Summary TwoColumns() {
  return Summary{100, {{0.5, 0.04, 0.1, 0.9}, {0.2, 0.01, 0.0, 0.6}}, {30, 50, 20}};
}

TEST(DifferentialPrivacy, ChecksSettings) {
  EXPECT_TRUE(CheckDifferentialPrivacy({1, 0, 1}).ok());
  EXPECT_EQ(CheckDifferentialPrivacy({0, 0, 1}).message(), "epsilon: must be > 0, got 0.0");
  EXPECT_EQ(CheckDifferentialPrivacy({1, 1, 1}).message(), "clip: lo must be < hi, got [1.0, 1.0]");
  EXPECT_EQ(CheckDifferentialPrivacy({NAN, 0, 1}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckDifferentialPrivacy({1e-300, 0, 1}).message(),
            "epsilon: must be at least 1e-06 (a smaller one leaves nothing but noise), got 1e-300");
  EXPECT_TRUE(CheckDifferentialPrivacy({kMinEpsilon, 0, 1}).ok());
  EXPECT_EQ(CheckDifferentialPrivacy({1, 1e38, 1e39}).message(),
            "clip: bounds must be within float's range (about 3.4e38), got [1e+38, 1e+39]");
}

TEST(DifferentialPrivacy, ClipsOutputs) {
  Matrix m(2, 2);
  m << -5, 0.5, 0.25, 9;
  ClipOutputs({1, 0, 1}, m);
  EXPECT_EQ(m(0, 0), 0);
  EXPECT_EQ(m(0, 1), 0.5f);
  EXPECT_EQ(m(1, 0), 0.25f);
  EXPECT_EQ(m(1, 1), 1);
}

TEST(DifferentialPrivacy, ScalesAreSensitivityOverTheSplitBudget) {
  FixedNoise noise(0);
  const DifferentialPrivacy dp{10, -1, 1};  // range 2; 5 figures: 2 per column + counts
  Summary out = AddLaplaceNoise(TwoColumns(), dp, noise);
  const double each = 2.0;  // 10 / 5
  ASSERT_EQ(noise.scales.size(), 2 * 2 + 3u);
  EXPECT_DOUBLE_EQ(noise.scales[0], 2.0 / 100 / each);  // mean
  EXPECT_DOUBLE_EQ(noise.scales[1], 4.0 / 100 / each);  // variance
  EXPECT_DOUBLE_EQ(noise.scales[4], 2.0 / each);        // class counts
  EXPECT_EQ(out.rows, 100);
  EXPECT_EQ(out.columns[0].mean, 0.5);
  // min and max are the public clip bounds, not figures of the data.
  EXPECT_EQ(out.columns[1].min, -1.0);
  EXPECT_EQ(out.columns[1].max, 1.0);
}

TEST(DifferentialPrivacy, NoisyFiguresAreClampedToTheirRanges) {
  FixedNoise big(1000);
  Summary up = AddLaplaceNoise(TwoColumns(), {1, 0, 1}, big);
  EXPECT_EQ(up.columns[0].mean, 1.0);
  EXPECT_EQ(up.columns[0].variance, 0.25);
  EXPECT_EQ(up.class_counts, (std::vector<int64_t>{100, 100, 100}));  // at most the rows
  FixedNoise negative(-1000.4);
  Summary down = AddLaplaceNoise(TwoColumns(), {1, 0, 1}, negative);
  EXPECT_EQ(down.columns[1].mean, 0.0);
  EXPECT_EQ(down.columns[1].variance, 0.0);
  EXPECT_EQ(down.class_counts, (std::vector<int64_t>{0, 0, 0}));
  // Noise that is not a number (it cannot be, within the checked settings) still converts.
  FixedNoise not_a_number(NAN);
  EXPECT_EQ(AddLaplaceNoise(TwoColumns(), {1, 0, 1}, not_a_number).class_counts,
            (std::vector<int64_t>{0, 0, 0}));
}

TEST(DifferentialPrivacy, RandomNoiseIsLaplaceWithTheScaleAskedFor) {
  RandomLaplaceNoise noise;
  const int n = 200000;
  double sum = 0, sum_abs = 0;
  int distinct = 0;
  double last = 0;
  for (int i = 0; i < n; ++i) {
    const double x = noise.Sample(2.0);
    sum += x;
    sum_abs += std::fabs(x);
    distinct += x != last;
    last = x;
  }
  // Laplace(0, b): mean 0, E|x| = b; standard errors here are about 0.006 and 0.0045.
  EXPECT_NEAR(sum / n, 0.0, 0.04);
  EXPECT_NEAR(sum_abs / n, 2.0, 0.03);
  EXPECT_GT(distinct, n - 10);
  // Two sources seeded from std::random_device do not repeat each other.
  RandomLaplaceNoise a, b;
  EXPECT_NE(a.Sample(1), b.Sample(1));
}

}  // namespace
}  // namespace dim::core
