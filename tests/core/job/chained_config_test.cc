#include "core/job/chained_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "core/job/config_reader.h"

namespace dim::core {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

ChainedConfig ParseOk(std::string_view text) {
  Result<ChainedConfig> config = ParseChainedConfig(text);
  EXPECT_TRUE(config.ok()) << text << "\n" << config.status().ToString();
  return config.ok() ? *config : ChainedConfig{};
}

std::string ParseError(std::string_view text) {
  Result<ChainedConfig> config = ParseChainedConfig(text);
  EXPECT_FALSE(config.ok()) << text;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << text;
  return config.status().message();
}

void ExpectSame(const ChainedConfig& a, const ChainedConfig& b) {
  ASSERT_EQ(a.steps.size(), b.steps.size());
  for (size_t i = 0; i < a.steps.size(); ++i) {
    const ChainedStep& x = a.steps[i];
    const ChainedStep& y = b.steps[i];
    EXPECT_EQ(x.step, y.step);
    EXPECT_EQ(x.name, y.name);
    EXPECT_EQ(x.model_id, y.model_id);
    EXPECT_EQ(x.node_id, y.node_id);
    EXPECT_EQ(x.source.kind, y.source.kind);
    EXPECT_EQ(x.source.dataset, y.source.dataset);
    EXPECT_EQ(x.source.step, y.source.step);
    EXPECT_EQ(x.columns, y.columns);
    EXPECT_EQ(x.timeout_seconds, y.timeout_seconds);
  }
  EXPECT_EQ(a.error_handling.on_failure, b.error_handling.on_failure);
  EXPECT_EQ(a.error_handling.max_retries, b.error_handling.max_retries);
  EXPECT_EQ(a.error_handling.fallback_nodes, b.error_handling.fallback_nodes);
  ASSERT_EQ(a.input_data.has_value(), b.input_data.has_value());
  if (a.input_data) {
    EXPECT_EQ(a.input_data->columns, b.input_data->columns);
    EXPECT_EQ(a.input_data->rows, b.input_data->rows);
    EXPECT_EQ(a.input_data->width, b.input_data->width);
    EXPECT_EQ(a.input_data->values, b.input_data->values);
  }
  EXPECT_EQ(a.timeout_seconds, b.timeout_seconds);
}

// A config whose pipeline is `steps` (the inside of the array) and whose other top-level keys
// are `rest` (with a leading comma, or empty).
std::string Config(const std::string& steps, const std::string& rest = "") {
  return R"({"pipeline": [)" + steps + "]" + rest + "}";
}

// Two steps: a reads dataset x on node a, b reads a's output on node a too.
const char* const kTwoSteps =
    R"({"step": 1, "name": "a", "model_id": "m1", "node_id": "a", "input_source": "dataset:x"},
       {"step": 2, "name": "b", "model_id": "m2", "node_id": "a", "input_source": "step_1_output"})";

TEST(ChainedConfig, MinimalConfigTakesDefaults) {
  const ChainedConfig c = ParseOk(
      R"({"pipeline": [{"step": 1, "model_id": "m", "node_id": "n", "input_source": "dataset:d"}]})");
  ASSERT_EQ(c.steps.size(), 1u);
  const ChainedStep& s = c.steps[0];
  EXPECT_EQ(s.step, 1);
  EXPECT_EQ(s.name, "step_1");
  EXPECT_EQ(s.model_id, "m");
  EXPECT_EQ(s.node_id, "n");
  EXPECT_EQ(s.source.kind, StepSource::Kind::kDataset);
  EXPECT_EQ(s.source.dataset, "d");
  EXPECT_THAT(s.columns, IsEmpty());
  EXPECT_EQ(s.timeout_seconds, 0);
  EXPECT_EQ(c.error_handling.on_failure, OnFailure::kFailFast);
  EXPECT_EQ(c.error_handling.max_retries, 0);
  EXPECT_THAT(c.error_handling.fallback_nodes, IsEmpty());
  EXPECT_FALSE(c.input_data.has_value());
  EXPECT_EQ(c.timeout_seconds, 0);
}

TEST(ChainedConfig, EveryKeyInCamelCase) {
  const ChainedConfig c = ParseOk(R"({
      "pipeline": [
        {"step": 1, "name": "scale", "modelId": "m1", "nodeId": "n1",
         "inputSource": "client_data", "columns": ["b"], "timeout": 1.5},
        {"step": 2, "modelId": "m2", "nodeId": "n2", "inputSource": "step_1_output"}],
      "errorHandling": {"onFailure": "retry", "maxRetries": 3,
                        "fallbackNodes": {"2": ["n3", "n1"]}},
      "inputData": {"columns": ["a", "b"], "rows": [[1, 2], [3, 4.5]]},
      "timeout": 30})");
  ASSERT_EQ(c.steps.size(), 2u);
  EXPECT_EQ(c.steps[0].name, "scale");
  EXPECT_EQ(c.steps[0].model_id, "m1");
  EXPECT_EQ(c.steps[0].node_id, "n1");
  EXPECT_EQ(c.steps[0].source.kind, StepSource::Kind::kClientData);
  EXPECT_THAT(c.steps[0].columns, ElementsAre("b"));
  EXPECT_EQ(c.steps[0].timeout_seconds, 1.5);
  EXPECT_EQ(c.steps[1].name, "step_2");
  EXPECT_EQ(c.steps[1].source.kind, StepSource::Kind::kStepOutput);
  EXPECT_EQ(c.steps[1].source.step, 1);
  EXPECT_EQ(c.error_handling.on_failure, OnFailure::kRetry);
  EXPECT_EQ(c.error_handling.max_retries, 3);
  EXPECT_THAT(c.error_handling.fallback_nodes, ElementsAre(Pair(2, ElementsAre("n3", "n1"))));
  ASSERT_TRUE(c.input_data.has_value());
  EXPECT_THAT(c.input_data->columns, ElementsAre("a", "b"));
  EXPECT_EQ(c.input_data->rows, 2);
  EXPECT_EQ(c.input_data->width, 2);
  EXPECT_THAT(c.input_data->values, ElementsAre(1.0f, 2.0f, 3.0f, 4.5f));
  EXPECT_EQ(c.timeout_seconds, 30);
}

TEST(ChainedConfig, SourceTextAndOnFailureNames) {
  EXPECT_EQ(StepSourceText({StepSource::Kind::kDataset, "x", 0}), "dataset:x");
  EXPECT_EQ(StepSourceText({StepSource::Kind::kClientData, "", 0}), "client_data");
  EXPECT_EQ(StepSourceText({StepSource::Kind::kStepOutput, "", 2}), "step_2_output");
  EXPECT_EQ(OnFailureName(OnFailure::kFailFast), "fail_fast");
  EXPECT_EQ(OnFailureName(OnFailure::kRetry), "retry");
  EXPECT_EQ(OnFailureName(OnFailure::kRollbackAndRetry), "rollback_and_retry");
}

TEST(ChainedConfig, AStepMayReadAnyEarlierStep) {
  const ChainedConfig c = ParseOk(Config(
      R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "dataset:x:y"},
         {"step": 2, "model_id": "m", "node_id": "a", "input_source": "step_1_output"},
         {"step": 3, "model_id": "m", "node_id": "a", "input_source": "step_1_output"},
         {"step": 4, "model_id": "m", "node_id": "a", "input_source": "step_3_output"},
         {"step": 5, "model_id": "m", "node_id": "b", "input_source": "dataset:z"})"));
  ASSERT_EQ(c.steps.size(), 5u);
  EXPECT_EQ(c.steps[0].source.dataset, "x:y");
  EXPECT_EQ(c.steps[1].source.step, 1);
  EXPECT_EQ(c.steps[2].source.step, 1);
  EXPECT_EQ(c.steps[3].source.step, 3);
  EXPECT_EQ(c.steps[4].source.kind, StepSource::Kind::kDataset);
}

TEST(ChainedConfig, ClientRowsMayMoveAcrossNodes) {
  const ChainedConfig c = ParseOk(Config(
      R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "client_data"},
         {"step": 2, "model_id": "m", "node_id": "b", "input_source": "step_1_output"},
         {"step": 3, "model_id": "m", "node_id": "c", "input_source": "step_2_output"})",
      R"(, "input_data": [[1], [2]])"));
  EXPECT_EQ(c.steps[2].node_id, "c");
}

TEST(ChainedConfig, APipelineHasAtMost100Steps) {
  auto steps = [](int n) {
    std::string out;
    for (int k = 1; k <= n; ++k) {
      if (k > 1) out += ", ";
      out += R"({"step": )" + std::to_string(k) + R"(, "model_id": "m", "node_id": "a", )" +
             (k == 1 ? std::string(R"("input_source": "dataset:d"})")
                     : R"("input_source": "step_)" + std::to_string(k - 1) + R"(_output"})");
    }
    return out;
  };
  EXPECT_TRUE(ParseChainedConfig(Config(steps(100))).ok());
  EXPECT_EQ(ParseError(Config(steps(101))), "$.pipeline: at most 100 steps, got 101");
}

TEST(ChainedConfig, DatasetRowsStayOnTheirNodeThroughEverySteps) {
  EXPECT_EQ(ParseError(Config(
                R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "dataset:x"},
                   {"step": 2, "model_id": "m", "node_id": "b", "input_source": "step_1_output"})")),
            "$.pipeline[1].node_id: step 2 reads step 1's output, whose rows come from dataset "
            "'x' on node 'a' and never leave it: run step 2 on node 'a'");
  // Through an earlier step, and with the key in camelCase.
  EXPECT_EQ(ParseError(Config(
                R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "client_data"},
                   {"step": 2, "model_id": "m", "node_id": "b", "input_source": "dataset:d"},
                   {"step": 3, "model_id": "m", "node_id": "b", "input_source": "step_2_output"},
                   {"step": 4, "model_id": "m", "nodeId": "a", "input_source": "step_3_output"})",
                R"(, "input_data": [[1]])")),
            "$.pipeline[3].nodeId: step 4 reads step 3's output, whose rows come from dataset "
            "'d' on node 'b' and never leave it: run step 4 on node 'b'");
}

TEST(ChainedConfig, MaxRetriesDefaultsWithTheRetryModes) {
  const std::string steps = kTwoSteps;
  EXPECT_EQ(ParseOk(Config(steps, R"(, "error_handling": {"on_failure": "retry"})"))
                .error_handling.max_retries,
            2);
  const ChainedConfig r =
      ParseOk(Config(steps, R"(, "error_handling": {"on_failure": "rollback_and_retry"})"));
  EXPECT_EQ(r.error_handling.on_failure, OnFailure::kRollbackAndRetry);
  EXPECT_EQ(r.error_handling.max_retries, 2);
  EXPECT_EQ(ParseOk(Config(steps, R"(, "error_handling": {"on_failure": "retry",
                                                           "max_retries": 0})"))
                .error_handling.max_retries,
            0);
  EXPECT_EQ(ParseOk(Config(steps, R"(, "error_handling": {"on_failure": "retry",
                                                           "max_retries": 10.0})"))
                .error_handling.max_retries,
            10);
  const ChainedConfig f =
      ParseOk(Config(steps, R"(, "error_handling": {"on_failure": "fail_fast"})"));
  EXPECT_EQ(f.error_handling.on_failure, OnFailure::kFailFast);
  EXPECT_EQ(f.error_handling.max_retries, 0);
  EXPECT_EQ(ParseOk(Config(steps, R"(, "error_handling": {})")).error_handling.max_retries, 0);
}

TEST(ChainedConfig, FallbackNodesAreKeyedByStepNumberOrName) {
  const ChainedConfig c = ParseOk(Config(kTwoSteps, R"(, "error_handling": {
      "on_failure": "retry", "fallback_nodes": {"b": ["c", "d"], "1": ["e"]}})"));
  EXPECT_THAT(c.error_handling.fallback_nodes,
              ElementsAre(Pair(1, ElementsAre("e")), Pair(2, ElementsAre("c", "d"))));
  // A number names a step by number even when a step is called that.
  const ChainedConfig n = ParseOk(Config(
      R"({"step": 1, "name": "2", "model_id": "m", "node_id": "a", "input_source": "dataset:x"},
         {"step": 2, "model_id": "m", "node_id": "b", "input_source": "dataset:y"})",
      R"(, "error_handling": {"on_failure": "retry", "fallback_nodes": {"2": ["a"]}})"));
  EXPECT_THAT(n.error_handling.fallback_nodes, ElementsAre(Pair(2, ElementsAre("a"))));
}

TEST(ChainedConfig, InputDataAsBareRows) {
  const ChainedConfig c = ParseOk(
      Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "client_data"})",
             R"(, "input_data": [[1, -2.5, 3e2], [0.1, 0, 7]])"));
  ASSERT_TRUE(c.input_data.has_value());
  EXPECT_THAT(c.input_data->columns, IsEmpty());
  EXPECT_EQ(c.input_data->rows, 2);
  EXPECT_EQ(c.input_data->width, 3);
  EXPECT_THAT(c.input_data->values, ElementsAre(1.0f, -2.5f, 300.0f, 0.1f, 0.0f, 7.0f));
}

TEST(ChainedConfig, InputDataMayHoldUpToTheLimit) {
  // 1000 rows of 500 numbers: exactly kMaxClientValues.
  json rows = json::array();
  for (int r = 0; r < 1000; ++r) rows.push_back(std::vector<int>(500, r));
  json config = json::parse(
      R"({"pipeline": [{"step": 1, "model_id": "m", "node_id": "a", "input_source": "client_data"}]})");
  config["input_data"] = rows;
  const ChainedConfig c = ParseOk(config.dump());
  ASSERT_TRUE(c.input_data.has_value());
  EXPECT_EQ(c.input_data->rows, 1000);
  EXPECT_EQ(c.input_data->width, 500);
  EXPECT_EQ(static_cast<int64_t>(c.input_data->values.size()), kMaxClientValues);
  EXPECT_EQ(c.input_data->values.back(), 999.0f);

  config["input_data"].push_back(std::vector<int>(500, 0));
  EXPECT_EQ(ParseError(config.dump()),
            "$.input_data: 500500 numbers, more than the 500000 a job may carry; put the rows in "
            "a dataset on a node");
  config.erase("input_data");
  config["inputData"] = {{"columns", json::array()}, {"rows", rows}};
  std::vector<std::string> names;
  for (int i = 0; i < 501; ++i) {
    std::string name = "c";
    name += std::to_string(i);
    names.push_back(std::move(name));
  }
  config["inputData"]["columns"] = names;
  for (auto& row : config["inputData"]["rows"]) row.push_back(1);
  EXPECT_EQ(ParseError(config.dump()),
            "$.inputData: 501000 numbers, more than the 500000 a job may carry; put the rows in "
            "a dataset on a node");
}

TEST(ChainedConfig, CanonicalJsonParsesBackToTheSameConfig) {
  for (const std::string& text : {
           Config(R"({"step": 1, "model_id": "m", "node_id": "n", "input_source": "dataset:d"})"),
           Config(kTwoSteps, R"(, "timeout": 12.5, "error_handling": {"on_failure": "fail_fast"})"),
           Config(kTwoSteps, R"(, "error_handling": {"onFailure": "rollback_and_retry",
                  "fallback_nodes": {"a": ["z"], "2": ["y", "x"]}, "max_retries": 4})"),
           Config(R"({"step": 1, "name": "first", "model_id": "m", "node_id": "n",
                      "input_source": "client_data", "timeout": 2},
                     {"step": 2, "model_id": "m2", "node_id": "o", "input_source": "dataset:d",
                      "columns": ["p", "q"]},
                     {"step": 3, "model_id": "m3", "node_id": "p",
                      "input_source": "step_1_output"})",
                  R"(, "input_data": [[0.1, 2], [3, -4e-3]],
                     "error_handling": {"on_failure": "retry"})"),
           Config(R"({"step": 1, "model_id": "m", "node_id": "n", "input_source": "client_data",
                      "columns": ["y", "x"]})",
                  R"(, "inputData": {"columns": ["x", "y"], "rows": [[1.5, 2], [0.3, 1e-7]]})"),
       }) {
    const ChainedConfig c = ParseOk(text);
    const json canonical = ChainedConfigToJson(c);
    ExpectSame(c, ParseOk(canonical.dump()));
    EXPECT_EQ(ChainedConfigToJson(ParseOk(canonical.dump())), canonical) << text;
  }
}

TEST(ChainedConfig, CanonicalJsonFillsDefaultsAndLeavesOutWhatIsUnset) {
  const json j = ChainedConfigToJson(ParseOk(Config(kTwoSteps)));
  EXPECT_EQ(j, json::parse(R"({
      "pipeline": [
        {"step": 1, "name": "a", "model_id": "m1", "node_id": "a", "input_source": "dataset:x"},
        {"step": 2, "name": "b", "model_id": "m2", "node_id": "a",
         "input_source": "step_1_output"}],
      "error_handling": {"on_failure": "fail_fast"}})"));

  const json r = ChainedConfigToJson(ParseOk(Config(
      R"({"step": 1, "model_id": "m", "node_id": "n", "input_source": "client_data",
          "timeout": 3}, {"step": 2, "model_id": "m", "node_id": "o",
          "input_source": "step_1_output"})",
      R"(, "errorHandling": {"onFailure": "retry", "fallbackNodes": {"step_2": ["p"]}},
         "inputData": {"columns": ["a"], "rows": [[1], [2]]}, "timeout": 9)")));
  EXPECT_EQ(r, json::parse(R"({
      "pipeline": [
        {"step": 1, "name": "step_1", "model_id": "m", "node_id": "n",
         "input_source": "client_data", "timeout": 3.0},
        {"step": 2, "name": "step_2", "model_id": "m", "node_id": "o",
         "input_source": "step_1_output"}],
      "error_handling": {"on_failure": "retry", "max_retries": 2,
                         "fallback_nodes": {"2": ["p"]}},
      "input_data": {"columns": ["a"], "rows": [[1.0], [2.0]]},
      "timeout": 9.0})"));
}

TEST(ChainedConfig, EveryErrorNamesItsPath) {
  const std::string step1 =
      R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "dataset:x"})";
  const std::string client1 =
      R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "client_data")";
  const std::string retry = R"(, "error_handling": {"on_failure": "retry", )";
  const std::string fallbacks = ChildPath("$.error_handling.fallback_nodes", "9");
  const std::pair<std::string, std::string> cases[] = {
      // The document and its top level.
      {"{", "invalid JSON at byte 2: "},
      {"[]", "$: expected an object, got array"},
      {"{}", "$.pipeline: missing required key"},
      {R"({"pipeline": [], "pipeline": []})", "$.pipeline: duplicate key"},
      {R"({"pipeline": {}})", "$.pipeline: expected an array, got object"},
      {R"({"pipeline": []})", "$.pipeline: a pipeline needs at least 1 step"},
      {Config(step1, R"(, "pipline": 1)"), "$.pipline: unknown key (did you mean 'pipeline'?)"},
      {Config(step1, R"(, "nodes": 1)"), "$.nodes: unknown key"},
      {Config(step1, R"(, "timeout": 0)"), "$.timeout: must be > 0, got 0"},
      {Config(step1, R"(, "timeout": "1")"), "$.timeout: expected a number, got string"},
      {R"({"pipeline": [], "Pipeline": []})", "$.pipeline: given twice, also as 'Pipeline'"},
      // A step.
      {Config("1"), "$.pipeline[0]: expected an object, got number"},
      {Config(R"({"model_id": "m", "node_id": "a", "input_source": "dataset:x"})"),
       "$.pipeline[0].step: missing required key"},
      {Config(R"({"step": "1", "model_id": "m", "node_id": "a", "input_source": "dataset:x"})"),
       "$.pipeline[0].step: expected an integer, got string"},
      {Config(R"({"step": 1.5, "model_id": "m", "node_id": "a", "input_source": "dataset:x"})"),
       "$.pipeline[0].step: expected an integer, got 1.5"},
      {Config(R"({"step": 0, "model_id": "m", "node_id": "a", "input_source": "dataset:x"})"),
       "$.pipeline[0].step: steps must be numbered 1..N in order: expected 1, got 0"},
      {Config(step1 + R"(, {"step": 3, "model_id": "m", "node_id": "a",
                            "input_source": "dataset:x"})"),
       "$.pipeline[1].step: steps must be numbered 1..N in order: expected 2, got 3"},
      {Config(R"({"step": 1, "model": "m", "node_id": "a", "input_source": "dataset:x"})"),
       "$.pipeline[0].model: unknown key"},
      {Config(R"({"step": 1, "node_id": "a", "input_source": "dataset:x"})"),
       "$.pipeline[0].model_id: missing required key"},
      {Config(R"({"step": 1, "model_id": "", "node_id": "a", "input_source": "dataset:x"})"),
       "$.pipeline[0].model_id: must not be empty"},
      {Config(R"({"step": 1, "modelId": 3, "node_id": "a", "input_source": "dataset:x"})"),
       "$.pipeline[0].modelId: expected a string, got number"},
      {Config(R"({"step": 1, "model_id": "m", "input_source": "dataset:x"})"),
       "$.pipeline[0].node_id: missing required key"},
      {Config(R"({"step": 1, "model_id": "m", "nodeId": "", "input_source": "dataset:x"})"),
       "$.pipeline[0].nodeId: must not be empty"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "nodeId": "a",
                  "input_source": "dataset:x"})"),
       "$.pipeline[0].node_id: given twice, also as 'nodeId'"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a"})"),
       "$.pipeline[0].input_source: missing required key"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "inputSource": 1})"),
       "$.pipeline[0].inputSource: expected a string, got number"},
      {Config(step1 + R"(, {"step": 2, "model_id": "m", "node_id": "a", "input_source": "x"})"),
       "$.pipeline[1].input_source: expected dataset:<name>, client_data or step_<k>_output, "
       "got 'x'"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "dataset:"})"),
       "$.pipeline[0].input_source: expected dataset:<name>, client_data or step_<k>_output, "
       "got 'dataset:'"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "step_x_output"})"),
       "$.pipeline[0].input_source: expected dataset:<name>, client_data or step_<k>_output, "
       "got 'step_x_output'"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "step_-1_output"})"),
       "$.pipeline[0].input_source: expected dataset:<name>, client_data or step_<k>_output, "
       "got 'step_-1_output'"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "step__output"})"),
       "$.pipeline[0].input_source: expected dataset:<name>, client_data or step_<k>_output, "
       "got 'step__output'"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "step_2_output"})"),
       "$.pipeline[0].input_source: step 1 reads step 2's output, which is not an earlier step"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "step_1_output"})"),
       "$.pipeline[0].input_source: step 1 reads step 1's output, which is not an earlier step"},
      {Config(step1 + R"(, {"step": 2, "model_id": "m", "node_id": "a",
                            "input_source": "step_0_output"})"),
       "$.pipeline[1].input_source: step 2 reads step 0's output, which is not an earlier step"},
      {Config(client1 + "}"), "$.pipeline[0].input_source: client_data needs the job's input_data"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "name": ""})"),
       "$.pipeline[0].name: must not be empty"},
      {Config(R"({"step": 1, "name": "x", "model_id": "m", "node_id": "a",
                  "input_source": "dataset:x"},
                 {"step": 2, "name": "x", "model_id": "m", "node_id": "a",
                  "input_source": "dataset:x"})"),
       "$.pipeline[1].name: duplicate 'x' (also step 1)"},
      {Config(R"({"step": 1, "name": "step_2", "model_id": "m", "node_id": "a",
                  "input_source": "dataset:x"},
                 {"step": 2, "model_id": "m", "node_id": "a", "input_source": "dataset:x"})"),
       "$.pipeline[1].name: duplicate 'step_2' (also step 1)"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "dataset:x",
                  "timeout": -1})"),
       "$.pipeline[0].timeout: must be > 0, got -1"},
      // Columns of a step.
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "dataset:x",
                  "columns": "a"})"),
       "$.pipeline[0].columns: expected an array, got string"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "dataset:x",
                  "columns": ["a", "a"]})"),
       "$.pipeline[0].columns[1]: duplicate 'a' (also at [0])"},
      {Config(R"({"step": 1, "model_id": "m", "node_id": "a", "input_source": "dataset:x",
                  "columns": [""]})"),
       "$.pipeline[0].columns[0]: must not be empty"},
      {Config(step1 + R"(, {"step": 2, "model_id": "m", "node_id": "a",
                            "input_source": "step_1_output", "columns": ["a"]})"),
       "$.pipeline[1].columns: only a dataset or client_data input has named columns"},
      {Config(client1 + R"(, "columns": ["a"]})", R"(, "input_data": [[1]])"),
       "$.pipeline[0].columns: input_data has no column names to pick from (give it as "
       "{\"columns\": [...], \"rows\": [...]})"},
      {Config(client1 + R"(, "columns": ["a", "x"]})",
              R"(, "input_data": {"columns": ["a", "b"], "rows": [[1, 2]]})"),
       "$.pipeline[0].columns[1]: 'x' is not a column of input_data (it has: a, b)"},
      // input_data.
      {Config(step1, R"(, "input_data": [[1]])"),
       "$.input_data: no step reads it (give a step the input_source client_data, or leave "
       "input_data out)"},
      {Config(client1 + "}", R"(, "input_data": 1)"),
       "$.input_data: expected an array of rows or an object, got number"},
      {Config(client1 + "}", R"(, "input_data": [])"),
       "$.input_data: input_data needs at least 1 row"},
      {Config(client1 + "}", R"(, "inputData": [[]])"),
       "$.inputData[0]: a row needs at least 1 number"},
      {Config(client1 + "}", R"(, "input_data": [1, 2])"),
       "$.input_data[0]: expected an array of numbers, got number"},
      {Config(client1 + "}", R"(, "input_data": [[1, 2, 3], [4, 5, 6], [7, 8]])"),
       "$.input_data[2]: expected 3 numbers like row 0, got 2"},
      {Config(client1 + "}", R"(, "input_data": [[1, 2], [3, "4"]])"),
       "$.input_data[1][1]: expected a number, got string"},
      {Config(client1 + "}", R"(, "input_data": [[1, null]])"),
       "$.input_data[0][1]: expected a number, got null"},
      {Config(client1 + "}", R"(, "input_data": [[1, 1e39]])"),
       "$.input_data[0][1]: must be a finite 32-bit float, got 1e+39"},
      {Config(client1 + "}", R"(, "input_data": [[1e400]])"), "invalid JSON"},
      {Config(client1 + "}", R"(, "input_data": {"rows": [[1]]})"),
       "$.input_data.columns: missing required key"},
      {Config(client1 + "}", R"(, "input_data": {"columns": ["a"]})"),
       "$.input_data.rows: missing required key"},
      {Config(client1 + "}", R"(, "input_data": {"columns": ["a"], "rows": [[1]], "x": 1})"),
       "$.input_data.x: unknown key"},
      {Config(client1 + "}", R"(, "input_data": {"columns": [], "rows": [[1]]})"),
       "$.input_data.columns: input_data needs at least 1 column"},
      {Config(client1 + "}", R"(, "input_data": {"columns": ["a", "a"], "rows": [[1, 2]]})"),
       "$.input_data.columns[1]: duplicate 'a' (also at [0])"},
      {Config(client1 + "}", R"(, "input_data": {"columns": ["a", ""], "rows": [[1, 2]]})"),
       "$.input_data.columns[1]: must not be empty"},
      {Config(client1 + "}", R"(, "input_data": {"columns": ["a"], "rows": []})"),
       "$.input_data.rows: input_data needs at least 1 row"},
      {Config(client1 + "}", R"(, "input_data": {"columns": ["a"], "rows": {}})"),
       "$.input_data.rows: expected an array of rows, got object"},
      {Config(client1 + "}", R"(, "inputData": {"columns": ["a", "b"], "rows": [[1, 2], [3]]})"),
       "$.inputData.rows[1]: expected 2 numbers, one per column of input_data, got 1"},
      {Config(client1 + "}", R"(, "inputData": {"columns": ["a"], "rows": [[1, 2]]})"),
       "$.inputData.rows[0]: expected 1 numbers, one per column of input_data, got 2"},
      // error_handling.
      {Config(step1, R"(, "error_handling": "retry")"),
       "$.error_handling: expected an object, got string"},
      {Config(step1, R"(, "error_handling": {"on_failure": "x"})"),
       "$.error_handling.on_failure: unknown on_failure 'x' (expected fail_fast, retry or "
       "rollback_and_retry)"},
      {Config(step1, R"(, "errorHandling": {"onFailure": 1})"),
       "$.errorHandling.onFailure: expected a string, got number"},
      {Config(step1, R"(, "error_handling": {"on_failur": "retry"})"),
       "$.error_handling.on_failur: unknown key (did you mean 'on_failure'?)"},
      {Config(step1, R"(, "error_handling": {"max_retries": 1})"),
       "$.error_handling.max_retries: only used with retry or rollback_and_retry"},
      {Config(step1, R"(, "errorHandling": {"onFailure": "fail_fast", "maxRetries": 0})"),
       "$.errorHandling.maxRetries: only used with retry or rollback_and_retry"},
      {Config(step1, R"(, "error_handling": {"fallback_nodes": {}})"),
       "$.error_handling.fallback_nodes: only used with retry or rollback_and_retry"},
      {Config(step1, retry + R"("max_retries": 11})"),
       "$.error_handling.max_retries: must be <= 10, got 11"},
      {Config(step1, retry + R"("max_retries": -1})"),
       "$.error_handling.max_retries: must be >= 0, got -1"},
      {Config(step1, retry + R"("max_retries": 1.5})"),
       "$.error_handling.max_retries: expected an integer, got 1.5"},
      {Config(step1, retry + R"("fallback_nodes": ["b"]})"),
       "$.error_handling.fallback_nodes: expected an object, got array"},
      {Config(kTwoSteps, retry + R"("fallback_nodes": {"9": ["c"]}})"),
       fallbacks + ": no step 9 (steps are 1..2)"},
      {Config(kTwoSteps, retry + R"("fallback_nodes": {"0": ["c"]}})"),
       ChildPath("$.error_handling.fallback_nodes", "0") + ": no step 0 (steps are 1..2)"},
      {Config(kTwoSteps, retry + R"("fallbackNodes": {"c d": ["c"]}})"),
       "$.error_handling.fallbackNodes['c d']: no step named 'c d' (give a step number 1..2 "
       "or a step's name)"},
      {Config(kTwoSteps, retry + R"("fallback_nodes": {"b": ["c"], "2": ["d"]}})"),
       "$.error_handling.fallback_nodes.b: step 2 is also given as '2'"},
      {Config(kTwoSteps, retry + R"("fallback_nodes": {"a": "c"}})"),
       "$.error_handling.fallback_nodes.a: expected an array, got string"},
      {Config(kTwoSteps, retry + R"("fallback_nodes": {"a": ["c", "c"]}})"),
       "$.error_handling.fallback_nodes.a[1]: duplicate 'c' (also at [0])"},
      {Config(kTwoSteps, retry + R"("fallback_nodes": {"a": [""]}})"),
       "$.error_handling.fallback_nodes.a[0]: must not be empty"},
      {Config(kTwoSteps, retry + R"("fallback_nodes": {"b": ["c", "a"]}})"),
       "$.error_handling.fallback_nodes.b[1]: 'a' is step 2's own node_id, not a fallback"},
  };
  for (const auto& [text, message] : cases) {
    const std::string got = ParseError(text);
    if (message.ends_with(": ") || message == "invalid JSON") {
      EXPECT_TRUE(got.starts_with(message)) << text << "\n" << got;
    } else {
      EXPECT_EQ(got, message) << text;
    }
  }
}

}  // namespace
}  // namespace dim::core
