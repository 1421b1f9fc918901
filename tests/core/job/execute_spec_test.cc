#include "core/job/execute_spec.h"

#include <gtest/gtest.h>

#include <string>

namespace dim::core {
namespace {

TEST(ExecuteSpecTest, ReadsEveryKeyInEitherSpelling) {
  auto spec = ParseExecuteSpec(
      R"({"pattern": "comparative", "config": {"model_ids": ["a", "b"]}, "priority": "high",
          "userId": "ci"})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->pattern, Pattern::kComparative);
  EXPECT_EQ(spec->config_json, R"({"model_ids":["a","b"]})");
  EXPECT_EQ(spec->priority, Priority::kHigh);
  EXPECT_EQ(spec->user_id, "ci");
}

TEST(ExecuteSpecTest, ConfigMayBeJsonTextAndDefaultsApply) {
  auto spec = ParseExecuteSpec(R"({"pattern": "collaborative", "config": "{\"model_id\": 1}"})");
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->pattern, Pattern::kCollaborative);
  // Passed on as it is: the pattern checks its config when the job is submitted.
  EXPECT_EQ(spec->config_json, R"({"model_id": 1})");
  EXPECT_EQ(spec->priority, Priority::kNormal);
  EXPECT_EQ(spec->user_id, "");
}

TEST(ExecuteSpecTest, ErrorsNameTheJsonPath) {
  const struct {
    const char* json;
    const char* message;
  } cases[] = {
      {"[]", "$: expected an object, got array"},
      {"{", "invalid JSON at byte 2"},
      {R"({"config": {}})", "$.pattern: missing required key"},
      {R"({"pattern": "mapreduce", "config": {}})",
       "$.pattern: unknown pattern 'mapreduce' (expected collaborative, comparative or chained)"},
      {R"({"pattern": "chained"})", "$.config: missing required key"},
      {R"({"pattern": "chained", "config": 3})",
       "$.config: expected an object or a string of JSON, got number"},
      {R"({"pattern": "chained", "config": {}, "priority": "urgent"})",
       "$.priority: unknown priority 'urgent' (expected low, normal or high)"},
      {R"({"pattern": "chained", "config": {}, "userId": 7})",
       "$.userId: expected a string, got number"},
      {R"({"pattern": "chained", "config": {}, "patern": 1})",
       "$.patern: unknown key (did you mean 'pattern'?)"},
  };
  for (const auto& c : cases) {
    auto spec = ParseExecuteSpec(c.json);
    ASSERT_FALSE(spec.ok()) << c.json;
    EXPECT_EQ(spec.status().code(), StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(spec.status().message().substr(0, std::string(c.message).size()), c.message)
        << spec.status().message();
  }
}

TEST(ExecuteSpecTest, ConfigErrorsAreRestatedFromTheSpecRoot) {
  EXPECT_EQ(LocateConfigError(Status::InvalidArgument("$.nodes[1]: expected a string")).message(),
            "$.config.nodes[1]: expected a string");
  EXPECT_EQ(LocateConfigError(Status::NotFound("$.model_id: no node has model 'x'")).message(),
            "$.config.model_id: no node has model 'x'");
  EXPECT_EQ(LocateConfigError(Status::InvalidArgument("$: expected an object")).message(),
            "$.config: expected an object");
  EXPECT_EQ(LocateConfigError(Status::InvalidArgument("$['a b']: unknown key")).message(),
            "$.config['a b']: unknown key");
  // Not a config path, or not a config error: unchanged.
  const Status json = Status::InvalidArgument("invalid JSON at byte 3: x");
  EXPECT_EQ(LocateConfigError(json).message(), json.message());
  const Status other = Status::Unimplemented("$.x: chained jobs are not available");
  EXPECT_EQ(LocateConfigError(other).code(), StatusCode::kUnimplemented);
  EXPECT_EQ(LocateConfigError(other).message(), other.message());
}

}  // namespace
}  // namespace dim::core
