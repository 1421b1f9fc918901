#include "core/stats/consensus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dim::core {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Rows = std::vector<std::vector<float>>;

Matrix ToMatrix(const Rows& rows) {
  Matrix m(static_cast<Eigen::Index>(rows.size()),
           rows.empty() ? 0 : static_cast<Eigen::Index>(rows[0].size()));
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < rows[r].size(); ++c) {
      m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = rows[r][c];
    }
  }
  return m;
}

// Votes once over all rows (one batch per model).
ConsensusResult Vote(ConsensusSettings settings, const std::vector<Rows>& per_model) {
  auto builder = ConsensusBuilder::Create(std::move(settings), per_model.size(),
                                          static_cast<int64_t>(per_model[0][0].size()));
  EXPECT_TRUE(builder.ok()) << builder.status().ToString();
  std::vector<Matrix> outputs;
  for (const auto& rows : per_model) outputs.push_back(ToMatrix(rows));
  EXPECT_TRUE(builder->Add(outputs).ok());
  return builder->Finish();
}

ConsensusSettings Method(ConsensusMethod method) {
  ConsensusSettings s;
  s.method = method;
  return s;
}

// Three models, three classes, four rows. Argmax per model and row:
//   row 0: 0 0 0   (unanimous)
//   row 1: 1 1 2   (2 of 3 for class 1)
//   row 2: 2 1 0   (three-way tie: lowest class, 0)
//   row 3: 2 2 1   (2 of 3 for class 2)
const std::vector<Rows> kThree = {
    {{0.8f, 0.1f, 0.1f}, {0.1f, 0.7f, 0.2f}, {0.1f, 0.2f, 0.7f}, {0.2f, 0.2f, 0.6f}},
    {{0.6f, 0.3f, 0.1f}, {0.2f, 0.5f, 0.3f}, {0.3f, 0.4f, 0.3f}, {0.1f, 0.3f, 0.6f}},
    {{0.5f, 0.4f, 0.1f}, {0.1f, 0.4f, 0.5f}, {0.9f, 0.0f, 0.1f}, {0.3f, 0.6f, 0.1f}},
};

TEST(ConsensusBuilder, MajorityVoteTiesGoToTheLowestClass) {
  const ConsensusResult r = Vote(Method(ConsensusMethod::kMajorityVote), kThree);
  EXPECT_EQ(r.rows, 4);
  EXPECT_EQ(r.classes, 3);
  // Consensus per row: 0, 1, 0 (tie), 2.
  EXPECT_THAT(r.class_counts, ElementsAre(2, 1, 1));
  EXPECT_EQ(r.no_consensus, 0);
  // Agreeing models per row: 3, 2, 1, 2 -> (3 + 2 + 1 + 2) / 12.
  EXPECT_DOUBLE_EQ(r.agreement_level, 8.0 / 12.0);
  // Model 0 chose 0,1,2,2: agrees on rows 0, 1, 3. Model 1 chose 0,1,1,2: rows 0, 1, 3.
  // Model 2 chose 0,2,0,1: rows 0, 2.
  EXPECT_THAT(r.model_agreement, ElementsAre(0.75, 0.75, 0.5));
  EXPECT_THAT(r.model_class_counts[0], ElementsAre(1, 1, 2));
  EXPECT_THAT(r.model_class_counts[1], ElementsAre(1, 2, 1));
  EXPECT_THAT(r.model_class_counts[2], ElementsAre(2, 1, 1));
  // Same class: (0,1) rows 0, 1, 3; (0,2) row 0; (1,2) row 0.
  EXPECT_THAT(r.pairwise_agreement[0], ElementsAre(1.0, 0.75, 0.25));
  EXPECT_THAT(r.pairwise_agreement[1], ElementsAre(0.75, 1.0, 0.25));
  EXPECT_THAT(r.pairwise_agreement[2], ElementsAre(0.25, 0.25, 1.0));
  EXPECT_EQ(r.review_count, 0);
  EXPECT_THAT(r.review_rows, IsEmpty());
}

TEST(ConsensusBuilder, TwoModelsThatDisagreeTieToTheLowestClass) {
  const std::vector<Rows> two = {{{0.1f, 0.9f}, {0.9f, 0.1f}}, {{0.9f, 0.1f}, {0.2f, 0.8f}}};
  const ConsensusResult r = Vote(Method(ConsensusMethod::kMajorityVote), two);
  EXPECT_THAT(r.class_counts, ElementsAre(2, 0));
  EXPECT_DOUBLE_EQ(r.agreement_level, 0.5);
  EXPECT_THAT(r.model_agreement, ElementsAre(0.5, 0.5));
  EXPECT_THAT(r.pairwise_agreement[0], ElementsAre(1.0, 0.0));
}

TEST(ConsensusBuilder, ArgmaxTiesInsideAModelGoToTheLowestClass) {
  const std::vector<Rows> two = {{{0.4f, 0.4f, 0.2f}}, {{0.1f, 0.45f, 0.45f}}};
  const ConsensusResult r = Vote(Method(ConsensusMethod::kMajorityVote), two);
  EXPECT_THAT(r.model_class_counts[0], ElementsAre(1, 0, 0));
  EXPECT_THAT(r.model_class_counts[1], ElementsAre(0, 1, 0));
  EXPECT_THAT(r.class_counts, ElementsAre(1, 0, 0));
}

TEST(ConsensusBuilder, WeightedVoteSumsTheWeightsPerClass) {
  ConsensusSettings s = Method(ConsensusMethod::kWeightedVote);
  s.weights = {1, 1, 3};
  const ConsensusResult r = Vote(s, kThree);
  // Model 2 (weight 3) outweighs the other two together (2) on every row:
  // its classes 0, 2, 0, 1 are the consensus.
  EXPECT_THAT(r.class_counts, ElementsAre(2, 1, 1));
  // Agreeing models per row: 3 (row 0), 1 (row 1: class 2), 1 (row 2: class 0), 1 (row 3).
  EXPECT_DOUBLE_EQ(r.agreement_level, 6.0 / 12.0);
  EXPECT_THAT(r.model_agreement, ElementsAre(0.25, 0.25, 1.0));

  // Equal sums tie to the lowest class: row 2 gets 2 (class 2) vs 2 (class 1) vs 0 -> 1.
  s.weights = {2, 2, 0};
  const ConsensusResult tie = Vote(s, kThree);
  // Rows: 0 -> 0; 1 -> class 1 (4); 2 -> classes 2 and 1 at 2 each -> 1; 3 -> 2 (4).
  EXPECT_THAT(tie.class_counts, ElementsAre(1, 2, 1));
}

TEST(ConsensusBuilder, AverageTakesTheArgmaxOfTheMeanOutput) {
  const ConsensusResult r = Vote(Method(ConsensusMethod::kAverage), kThree);
  // Column sums per row:
  //   row 0: 1.9 0.8 0.3 -> 0;  row 1: 0.4 1.6 1.0 -> 1;
  //   row 2: 1.3 0.6 1.1 -> 0;  row 3: 0.6 1.1 1.3 -> 2.
  EXPECT_THAT(r.class_counts, ElementsAre(2, 1, 1));
  // Agreeing models per row: 3, 2, 1 (model 2 chose 0), 2.
  EXPECT_DOUBLE_EQ(r.agreement_level, 8.0 / 12.0);

  // Where the vote says class 0 (tie), the mean can say otherwise: one confident model.
  const std::vector<Rows> two = {{{0.0f, 1.0f}}, {{0.6f, 0.4f}}};
  EXPECT_THAT(Vote(Method(ConsensusMethod::kMajorityVote), two).class_counts, ElementsAre(1, 0));
  EXPECT_THAT(Vote(Method(ConsensusMethod::kAverage), two).class_counts, ElementsAre(0, 1));
  // An exact tie of the means goes to the lowest class.
  const std::vector<Rows> even = {{{0.75f, 0.25f}}, {{0.25f, 0.75f}}};
  EXPECT_THAT(Vote(Method(ConsensusMethod::kAverage), even).class_counts, ElementsAre(1, 0));
}

TEST(ConsensusBuilder, OneOutputIsABinaryClassifierAtOneHalf) {
  const std::vector<Rows> probs = {
      {{0.9f}, {0.2f}, {0.5f}}, {{0.7f}, {0.6f}, {0.1f}}, {{0.1f}, {0.45f}, {0.3f}}};
  const ConsensusResult vote = Vote(Method(ConsensusMethod::kMajorityVote), probs);
  EXPECT_EQ(vote.classes, 2);
  // Classes: row 0: 1 1 0 -> 1; row 1: 0 1 0 -> 0; row 2: 1 (0.5 counts as 1) 0 0 -> 0.
  EXPECT_THAT(vote.class_counts, ElementsAre(2, 1));
  // Means: 1.7/3 >= 0.5 -> 1; 1.25/3 -> 0; 0.9/3 -> 0.
  EXPECT_THAT(Vote(Method(ConsensusMethod::kAverage), probs).class_counts, ElementsAre(2, 1));
}

TEST(ConsensusBuilder, UnanimousCountsRowsWithoutConsensusApart) {
  const ConsensusResult r = Vote(Method(ConsensusMethod::kUnanimous), kThree);
  // Only row 0 is unanimous.
  EXPECT_THAT(r.class_counts, ElementsAre(1, 0, 0));
  EXPECT_EQ(r.no_consensus, 3);
  EXPECT_EQ(r.review_count, 3);
  // Agreement is measured against the majority-vote class on the other rows.
  EXPECT_DOUBLE_EQ(r.agreement_level, 8.0 / 12.0);
  EXPECT_THAT(r.model_agreement, ElementsAre(0.75, 0.75, 0.5));
  EXPECT_THAT(r.review_rows, IsEmpty());
}

TEST(ConsensusBuilder, ExpertReviewFlagsRowsBelowMinAgreementWithTheirIndices) {
  ConsensusSettings s = Method(ConsensusMethod::kExpertReview);
  const ConsensusResult all = Vote(s, kThree);          // default 1.0: every non-unanimous row
  EXPECT_THAT(all.class_counts, ElementsAre(2, 1, 1));  // as majority_vote
  EXPECT_EQ(all.review_count, 3);
  EXPECT_THAT(all.review_rows, ElementsAre(1, 2, 3));
  EXPECT_FALSE(all.review_rows_truncated);

  s.min_agreement = 0.5;  // rows where fewer than half agree: row 2 (1 of 3)
  const ConsensusResult half = Vote(s, kThree);
  EXPECT_EQ(half.review_count, 1);
  EXPECT_THAT(half.review_rows, ElementsAre(2));

  s.min_agreement = 2.0 / 3.0;  // 2 of 3 is not below 2/3
  EXPECT_THAT(Vote(s, kThree).review_rows, ElementsAre(2));
  s.min_agreement = 0;
  EXPECT_EQ(Vote(s, kThree).review_count, 0);
}

TEST(ConsensusBuilder, ReviewRowsCountAcrossBatchesAndStopAtTheCap) {
  ConsensusSettings s = Method(ConsensusMethod::kExpertReview);
  auto builder = ConsensusBuilder::Create(s, 2, 2);
  ASSERT_TRUE(builder.ok());
  // Batches of 500 rows where the models disagree on every odd row.
  const int batches = 5;
  for (int b = 0; b < batches; ++b) {
    Matrix m0(500, 2), m1(500, 2);
    for (int r = 0; r < 500; ++r) {
      m0.row(r) << 1, 0;
      if (r % 2 == 1) {
        m1.row(r) << 0, 1;
      } else {
        m1.row(r) << 1, 0;
      }
    }
    ASSERT_TRUE(builder->Add({m0, m1}).ok());
  }
  const ConsensusResult r = builder->Finish();
  EXPECT_EQ(r.rows, 2500);
  EXPECT_EQ(r.review_count, 1250);
  ASSERT_EQ(r.review_rows.size(), kMaxReviewRows);
  EXPECT_EQ(r.review_rows[0], 1);
  EXPECT_EQ(r.review_rows[250], 501);  // row 1 of the second batch
  EXPECT_EQ(r.review_rows.back(), 1999);
  EXPECT_TRUE(r.review_rows_truncated);
}

TEST(ConsensusBuilder, NoRowsGiveZeros) {
  auto builder = ConsensusBuilder::Create(Method(ConsensusMethod::kMajorityVote), 2, 3);
  ASSERT_TRUE(builder.ok());
  const ConsensusResult r = builder->Finish();
  EXPECT_EQ(r.rows, 0);
  EXPECT_THAT(r.class_counts, ElementsAre(0, 0, 0));
  EXPECT_EQ(r.agreement_level, 0.0);
  EXPECT_THAT(r.pairwise_agreement[0], ElementsAre(0.0, 0.0));
}

TEST(ConsensusBuilder, MismatchedOutputsAreRejected) {
  auto builder = ConsensusBuilder::Create(Method(ConsensusMethod::kAverage), 2, 3);
  ASSERT_TRUE(builder.ok());
  EXPECT_EQ(builder->Add({Matrix(2, 3)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(builder->Add({Matrix(2, 3), Matrix(3, 3)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(builder->Add({Matrix(2, 3), Matrix(2, 2)}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(builder->Finish().rows, 0);
}

TEST(ConsensusSettings, CheckNamesTheBadSetting) {
  auto message = [](ConsensusSettings s, size_t models) {
    return CheckConsensusSettings(s, models).message();
  };
  EXPECT_EQ(message(Method(ConsensusMethod::kMajorityVote), 1),
            "model_ids: a comparison needs at least 2 models, got 1");
  ConsensusSettings w = Method(ConsensusMethod::kWeightedVote);
  EXPECT_THAT(message(w, 2), HasSubstr("weights: 0 weights for 2 models"));
  w.weights = {1, -1};
  EXPECT_EQ(message(w, 2), "weights[1]: must be a number >= 0");
  w.weights = {0, 0};
  EXPECT_EQ(message(w, 2), "weights: must not all be zero");
  w.weights = {0, 2};
  EXPECT_TRUE(CheckConsensusSettings(w, 2).ok());
  ConsensusSettings m = Method(ConsensusMethod::kMajorityVote);
  m.weights = {1, 1};
  EXPECT_EQ(message(m, 2), "weights: only the weighted_vote method takes weights");
  ConsensusSettings e = Method(ConsensusMethod::kExpertReview);
  e.min_agreement = 1.5;
  EXPECT_EQ(message(e, 2), "min_agreement: must be between 0 and 1");
}

TEST(ConsensusMethod, NamesRoundTrip) {
  for (auto name : ConsensusMethodNames()) {
    auto m = ParseConsensusMethod(name);
    ASSERT_TRUE(m.has_value()) << name;
    EXPECT_EQ(ConsensusMethodName(*m), name);
  }
  EXPECT_EQ(ConsensusMethodNames().size(), 5u);
  EXPECT_FALSE(ParseConsensusMethod("vote").has_value());
}

TEST(ConsensusToJson, HasReviewRowsOnlyForExpertReview) {
  const ConsensusResult r = Vote(Method(ConsensusMethod::kExpertReview), kThree);
  const auto j = ConsensusToJson(r, ConsensusMethod::kExpertReview);
  EXPECT_EQ(j["review_rows"], nlohmann::json::parse("[1,2,3]"));
  EXPECT_EQ(j["review_rows_truncated"], false);
  EXPECT_EQ(j["class_counts"], nlohmann::json::parse("[2,1,1]"));
  EXPECT_FALSE(ConsensusToJson(r, ConsensusMethod::kMajorityVote).contains("review_rows"));
}

}  // namespace
}  // namespace dim::core
