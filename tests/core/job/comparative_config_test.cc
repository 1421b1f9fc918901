#include "core/job/comparative_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace dim::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

ComparativeConfig ParseOk(std::string_view text) {
  Result<ComparativeConfig> config = ParseComparativeConfig(text);
  EXPECT_TRUE(config.ok()) << text << "\n" << config.status().ToString();
  return config.ok() ? *config : ComparativeConfig{};
}

std::string ParseError(std::string_view text) {
  Result<ComparativeConfig> config = ParseComparativeConfig(text);
  EXPECT_FALSE(config.ok()) << text;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << text;
  return config.status().message();
}

TEST(ComparativeConfig, MinimalConfigTakesDefaults) {
  const ComparativeConfig c = ParseOk(R"({"model_ids": ["a", "b"]})");
  EXPECT_THAT(c.model_ids, ElementsAre("a", "b"));
  EXPECT_EQ(c.node_id, "");
  EXPECT_EQ(c.dataset, "default");
  EXPECT_THAT(c.columns, IsEmpty());
  EXPECT_EQ(c.consensus.method, ConsensusMethod::kMajorityVote);
  EXPECT_THAT(c.consensus.weights, IsEmpty());
  EXPECT_EQ(c.consensus.min_agreement, 1.0);
  EXPECT_EQ(c.timeout_seconds, 0);
}

TEST(ComparativeConfig, EveryKeyInCamelCase) {
  const ComparativeConfig c = ParseOk(R"({
      "modelIds": ["a", "b", "c"], "nodeId": "n1", "dataset": "cardio",
      "columns": ["age", "bmi"], "timeout": 2.5,
      "consensus": {"method": "weighted_vote", "weights": [1, 0, 2.5]}})");
  EXPECT_THAT(c.model_ids, ElementsAre("a", "b", "c"));
  EXPECT_EQ(c.node_id, "n1");
  EXPECT_EQ(c.dataset, "cardio");
  EXPECT_THAT(c.columns, ElementsAre("age", "bmi"));
  EXPECT_EQ(c.timeout_seconds, 2.5);
  EXPECT_EQ(c.consensus.method, ConsensusMethod::kWeightedVote);
  EXPECT_THAT(c.consensus.weights, ElementsAre(1.0, 0.0, 2.5));

  const ComparativeConfig e = ParseOk(
      R"({"model_ids": ["a", "b"], "consensus": {"method": "expert_review", "minAgreement": 0.75}})");
  EXPECT_EQ(e.consensus.method, ConsensusMethod::kExpertReview);
  EXPECT_EQ(e.consensus.min_agreement, 0.75);
}

TEST(ComparativeConfig, ConsensusMayBeTheMethodsName) {
  for (const char* method : {"majority_vote", "average", "unanimous", "expert_review"}) {
    const ComparativeConfig c =
        ParseOk(std::string(R"({"model_ids": ["a", "b"], "consensus": ")") + method + "\"}");
    EXPECT_EQ(ConsensusMethodName(c.consensus.method), method);
  }
}

TEST(ComparativeConfig, CanonicalJsonParsesBackToTheSameConfig) {
  for (const char* text : {
           R"({"model_ids": ["a", "b"]})",
           R"({"model_ids": ["a", "b"], "node_id": "n", "columns": ["x"], "timeout": 3,
               "consensus": {"method": "weighted_vote", "weights": [2, 1]}})",
           R"({"model_ids": ["a", "b"], "consensus": {"method": "expert_review",
               "min_agreement": 0.5}})",
       }) {
    const ComparativeConfig c = ParseOk(text);
    const ComparativeConfig back = ParseOk(ComparativeConfigToJson(c).dump());
    EXPECT_EQ(back.model_ids, c.model_ids);
    EXPECT_EQ(back.node_id, c.node_id);
    EXPECT_EQ(back.dataset, c.dataset);
    EXPECT_EQ(back.columns, c.columns);
    EXPECT_EQ(back.consensus.method, c.consensus.method);
    EXPECT_EQ(back.consensus.weights, c.consensus.weights);
    EXPECT_EQ(back.consensus.min_agreement, c.consensus.min_agreement);
    EXPECT_EQ(back.timeout_seconds, c.timeout_seconds);
  }
  const auto j = ComparativeConfigToJson(ParseOk(R"({"model_ids": ["a", "b"]})"));
  EXPECT_FALSE(j.contains("node_id"));
  EXPECT_EQ(j["consensus"], nlohmann::json::parse(R"({"method": "majority_vote"})"));
}

TEST(ComparativeConfig, EveryErrorNamesItsPath) {
  const std::pair<const char*, const char*> cases[] = {
      {"{", "invalid JSON at byte 2: "},
      {"[]", "$: expected an object, got array"},
      {"{}", "$.model_ids: missing required key"},
      {R"({"model_ids": "a"})", "$.model_ids: expected an array, got string"},
      {R"({"model_ids": ["a"]})", "$.model_ids: a comparison needs at least 2 models, got 1"},
      {R"({"modelIds": []})", "$.modelIds: a comparison needs at least 2 models, got 0"},
      {R"({"model_ids": ["a", "a"]})", "$.model_ids[1]: duplicate 'a' (also at [0])"},
      {R"({"model_ids": ["a", 3]})", "$.model_ids[1]: expected a string, got number"},
      {R"({"model_ids": ["a", ""]})", "$.model_ids[1]: must not be empty"},
      {R"({"model_ids": ["a", "b"], "model_id": "a"})",
       "$.model_id: unknown key (did you mean 'model_ids'?)"},
      {R"({"model_ids": ["a", "b"], "nodes": ["n"]})", "$.nodes: unknown key"},
      {R"({"model_ids": ["a", "b"], "node_id": ""})", "$.node_id: must not be empty"},
      {R"({"model_ids": ["a", "b"], "node_id": 1})", "$.node_id: expected a string, got number"},
      {R"({"model_ids": ["a", "b"], "dataset": ""})", "$.dataset: must not be empty"},
      {R"({"model_ids": ["a", "b"], "columns": ["x", "x"]})",
       "$.columns[1]: duplicate 'x' (also at [0])"},
      {R"({"model_ids": ["a", "b"], "timeout": 0})", "$.timeout: must be > 0, got 0"},
      {R"({"model_ids": ["a", "b"], "consensus": 3})",
       "$.consensus: expected an object or a string, got number"},
      {R"({"model_ids": ["a", "b"], "consensus": "vote"})",
       "$.consensus: unknown consensus method 'vote' (expected majority_vote, weighted_vote, "
       "average, unanimous or expert_review)"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "median"}})",
       "$.consensus.method: unknown consensus method 'median' (expected majority_vote, "
       "weighted_vote, average, unanimous or expert_review)"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "average", "trim": 1}})",
       "$.consensus.trim: unknown key"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "weighted_vote"}})",
       "$.consensus.weights: missing required key (weighted_vote needs one weight per model)"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "weighted_vote", "weights": [1]}})",
       "$.consensus.weights: 1 weights for 2 models (one per model, in the order of model_ids)"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "weighted_vote", "weights": 1}})",
       "$.consensus.weights: expected an array, got number"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "weighted_vote",
          "weights": [1, "2"]}})",
       "$.consensus.weights[1]: expected a number, got string"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "weighted_vote",
          "weights": [1, -1]}})",
       "$.consensus.weights[1]: must be >= 0, got -1"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "weighted_vote",
          "weights": [0, 0.0]}})",
       "$.consensus.weights: must not all be zero"},
      {R"({"model_ids": ["a", "b"], "consensus": {"weights": [1, 2]}})",
       "$.consensus.weights: only the weighted_vote method takes weights (method is "
       "majority_vote)"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "average", "min_agreement": 0.5}})",
       "$.consensus.min_agreement: only the expert_review method takes min_agreement (method "
       "is average)"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "expert_review",
          "minAgreement": 1.5}})",
       "$.consensus.minAgreement: must be between 0 and 1, got 1.5"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "expert_review",
          "min_agreement": -0.1}})",
       "$.consensus.min_agreement: must be between 0 and 1, got -0.1"},
      {R"({"model_ids": ["a", "b"], "consensus": {"method": "expert_review",
          "min_agreement": "high"}})",
       "$.consensus.min_agreement: expected a number, got string"},
      {R"({"model_ids": ["a", "b"], "modelIds": ["c", "d"]})",
       "$.model_ids: given twice, also as 'modelIds'"},
  };
  for (const auto& [text, message] : cases) {
    const std::string got = ParseError(text);
    if (std::string_view(message).ends_with(": ")) {
      EXPECT_TRUE(got.starts_with(message)) << text << "\n" << got;
    } else {
      EXPECT_EQ(got, message) << text;
    }
  }
}

}  // namespace
}  // namespace dim::core
