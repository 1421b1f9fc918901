#include "core/job/collaborative_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace dim::core {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::StartsWith;

CollaborativeConfig ParseOk(std::string_view text) {
  Result<CollaborativeConfig> config = ParseCollaborativeConfig(text);
  EXPECT_TRUE(config.ok()) << text << "\n" << config.status().ToString();
  return config.ok() ? *config : CollaborativeConfig{};
}

std::string ParseError(std::string_view text) {
  Result<CollaborativeConfig> config = ParseCollaborativeConfig(text);
  EXPECT_FALSE(config.ok()) << text;
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument) << text;
  return config.status().message();
}

void ExpectSame(const CollaborativeConfig& a, const CollaborativeConfig& b) {
  EXPECT_EQ(a.model_id, b.model_id);
  EXPECT_EQ(a.nodes, b.nodes);
  EXPECT_EQ(a.dataset, b.dataset);
  EXPECT_EQ(a.columns, b.columns);
  EXPECT_EQ(a.aggregation_method, b.aggregation_method);
  EXPECT_EQ(a.task, b.task);
  EXPECT_EQ(a.min_nodes, b.min_nodes);
  EXPECT_EQ(a.timeout_seconds, b.timeout_seconds);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(a.trim, b.trim);
  EXPECT_EQ(a.reputation_min, b.reputation_min);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.max_nodes, b.max_nodes);
  ASSERT_EQ(a.differential_privacy.has_value(), b.differential_privacy.has_value());
  if (a.differential_privacy) {
    EXPECT_EQ(a.differential_privacy->epsilon, b.differential_privacy->epsilon);
    EXPECT_EQ(a.differential_privacy->clip_lo, b.differential_privacy->clip_lo);
    EXPECT_EQ(a.differential_privacy->clip_hi, b.differential_privacy->clip_hi);
  }
}

TEST(CollaborativeConfig, OnlyModelIdGivesDefaults) {
  CollaborativeConfig c = ParseOk(R"({"model_id": "diabetes"})");
  EXPECT_EQ(c.model_id, "diabetes");
  EXPECT_TRUE(c.nodes.empty());
  EXPECT_EQ(c.dataset, "default");
  EXPECT_TRUE(c.columns.empty());
  EXPECT_EQ(c.aggregation_method, "federated_averaging");
  EXPECT_EQ(c.task, "");
  EXPECT_EQ(c.min_nodes, 0);
  EXPECT_EQ(c.timeout_seconds, 0.0);
}

TEST(CollaborativeConfig, ReadsEveryKeyInSnakeCase) {
  CollaborativeConfig c = ParseOk(R"({
    "model_id": "sha256:abcd",
    "nodes": ["n1", "n2", "n3"],
    "dataset": "diabetes",
    "columns": ["bmi", "age"],
    "aggregation": {"method": "federated_averaging"},
    "task": "classification",
    "min_nodes": 2,
    "timeout": 2.5
  })");
  EXPECT_EQ(c.model_id, "sha256:abcd");
  EXPECT_THAT(c.nodes, ElementsAre("n1", "n2", "n3"));
  EXPECT_EQ(c.dataset, "diabetes");
  EXPECT_THAT(c.columns, ElementsAre("bmi", "age"));
  EXPECT_EQ(c.aggregation_method, "federated_averaging");
  EXPECT_EQ(c.task, "classification");
  EXPECT_EQ(c.min_nodes, 2);
  EXPECT_EQ(c.timeout_seconds, 2.5);
}

TEST(CollaborativeConfig, CamelCaseMeansTheSame) {
  CollaborativeConfig snake =
      ParseOk(R"({"model_id": "m", "nodes": ["a", "b"], "min_nodes": 1, "task": "regression"})");
  CollaborativeConfig camel =
      ParseOk(R"({"modelId": "m", "nodes": ["a", "b"], "minNodes": 1, "task": "regression"})");
  ExpectSame(snake, camel);
  EXPECT_EQ(camel.min_nodes, 1);
  EXPECT_EQ(camel.task, "regression");
  // Styles may be mixed across keys.
  ExpectSame(snake, ParseOk(R"({"modelId": "m", "nodes": ["a", "b"], "min_nodes": 1,
                                "task": "regression"})"));
}

TEST(CollaborativeConfig, AggregationMayBeTheMethodName) {
  CollaborativeConfig c = ParseOk(R"({"model_id": "m", "aggregation": "federated_averaging"})");
  EXPECT_EQ(c.aggregation_method, "federated_averaging");
  CollaborativeConfig empty = ParseOk(R"({"model_id": "m", "aggregation": {}})");
  EXPECT_EQ(empty.aggregation_method, "federated_averaging");
}

TEST(CollaborativeConfig, EmptyColumnsMeanAllColumns) {
  CollaborativeConfig c = ParseOk(R"({"model_id": "m", "columns": []})");
  EXPECT_TRUE(c.nodes.empty());
  EXPECT_TRUE(c.columns.empty());
}

TEST(CollaborativeConfig, AnEmptyNodeListIsAnErrorNotChoose) {
  EXPECT_EQ(ParseError(R"({"model_id": "m", "nodes": []})"),
            "$.nodes: must not be empty (leave it out to let the orchestrator choose the nodes)");
}

TEST(CollaborativeConfig, LongListsAreRefusedBeforeTheyAreRead) {
  json config = {{"model_id", "m"}, {"nodes", json::array()}};
  for (int i = 0; i < 500000; ++i) config["nodes"].push_back("n" + std::to_string(i));
  EXPECT_EQ(ParseError(config.dump()), "$.nodes: at most 1000 entries, got 500000");
}

TEST(CollaborativeConfig, DeepNestingIsRefusedBeforeItIsParsed) {
  const std::string deep = "{\"model_id\": \"m\", \"labels\": " + std::string(100000, '[') +
                           std::string(100000, ']') + "}";
  EXPECT_EQ(ParseError(deep), "$: nested deeper than 64 levels (at byte 92)");
}

TEST(CollaborativeConfig, MinNodesMayBeAnyPositiveCountWithoutNodes) {
  EXPECT_EQ(ParseOk(R"({"model_id": "m", "min_nodes": 50})").min_nodes, 50);
  EXPECT_EQ(ParseOk(R"({"model_id": "m", "nodes": ["a", "b"], "minNodes": 2.0})").min_nodes, 2);
}

TEST(CollaborativeConfig, IntegerTimeoutIsSeconds) {
  EXPECT_EQ(ParseOk(R"({"model_id": "m", "timeout": 30})").timeout_seconds, 30.0);
}

TEST(CollaborativeConfig, ReadsEveryAggregationMethod) {
  for (std::string method : {"federated_averaging", "weighted_average", "median", "trimmed_mean"}) {
    EXPECT_EQ(ParseOk(R"({"model_id": "m", "aggregation": {"method": ")" + method + "\"}}")
                  .aggregation_method,
              method);
    EXPECT_EQ(ParseOk(R"({"model_id": "m", "aggregation": ")" + method + "\"}").aggregation_method,
              method);
  }
}

TEST(CollaborativeConfig, WeightsByNodeIdOrInTheOrderOfNodes) {
  CollaborativeConfig by_id = ParseOk(R"({"model_id": "m", "nodes": ["a", "b"],
      "aggregation": {"method": "weighted_average", "weights": {"b": 3, "a": 0.5}}})");
  EXPECT_EQ(by_id.weights, (std::map<std::string, double>{{"a", 0.5}, {"b", 3}}));
  CollaborativeConfig in_order = ParseOk(R"({"model_id": "m", "nodes": ["a", "b"],
      "aggregation": {"method": "weighted_average", "weights": [0.5, 3]}})");
  EXPECT_EQ(in_order.weights, by_id.weights);
  // Without nodes, weights by id say which nodes weigh what (checked when nodes are chosen).
  EXPECT_EQ(ParseOk(R"({"model_id": "m", "aggregation": {"method": "weighted_average",
                        "weights": {"x": 0, "y": 1}}})")
                .weights.size(),
            2u);
  // No weights: reputation.
  EXPECT_TRUE(ParseOk(R"({"model_id": "m", "aggregation": "weighted_average"})").weights.empty());
}

TEST(CollaborativeConfig, TrimAndDifferentialPrivacy) {
  EXPECT_EQ(ParseOk(R"({"model_id": "m", "aggregation": "trimmed_mean"})").trim, 0.1);
  EXPECT_EQ(
      ParseOk(R"({"model_id": "m", "aggregation": {"method": "trimmed_mean", "trim": 0}})").trim,
      0.0);
  CollaborativeConfig c = ParseOk(R"({"model_id": "m", "aggregation": {"method": "median",
      "differentialPrivacy": {"epsilon": 0.5, "clip": [-1, 2.5]}}})");
  ASSERT_TRUE(c.differential_privacy.has_value());
  EXPECT_EQ(c.differential_privacy->epsilon, 0.5);
  EXPECT_EQ(c.differential_privacy->clip_lo, -1.0);
  EXPECT_EQ(c.differential_privacy->clip_hi, 2.5);
  EXPECT_FALSE(ParseOk(R"({"model_id": "m"})").differential_privacy.has_value());
}

// Every error path, with its whole message.
TEST(CollaborativeConfig, ReportsEachErrorWithItsPath) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // The document.
      {R"([1, 2])", "$: expected an object, got array"},
      {R"("model")", "$: expected an object, got string"},
      {R"(null)", "$: expected an object, got null"},
      // model_id.
      {R"({})", "$.model_id: missing required key"},
      {R"({"dataset": "d"})", "$.model_id: missing required key"},
      {R"({"model_id": ""})", "$.model_id: must not be empty"},
      {R"({"model_id": 7})", "$.model_id: expected a string, got number"},
      {R"({"modelId": null})", "$.modelId: expected a string, got null"},
      {R"({"model_id": "m", "modelId": "m"})", "$.model_id: given twice, also as 'modelId'"},
      // nodes.
      {R"({"model_id": "m", "nodes": "n1"})", "$.nodes: expected an array, got string"},
      {R"({"model_id": "m", "nodes": ["n1", 2]})", "$.nodes[1]: expected a string, got number"},
      {R"({"model_id": "m", "nodes": ["n1", ""]})", "$.nodes[1]: must not be empty"},
      {R"({"model_id": "m", "nodes": ["n1", "n2", "n1"]})",
       "$.nodes[2]: duplicate 'n1' (also at [0])"},
      // dataset.
      {R"({"model_id": "m", "dataset": ""})", "$.dataset: must not be empty"},
      {R"({"model_id": "m", "dataset": ["d"]})", "$.dataset: expected a string, got array"},
      // columns.
      {R"({"model_id": "m", "columns": {"bmi": 1}})", "$.columns: expected an array, got object"},
      {R"({"model_id": "m", "columns": ["bmi", true]})",
       "$.columns[1]: expected a string, got boolean"},
      {R"({"model_id": "m", "columns": ["bmi", "age", "bmi"]})",
       "$.columns[2]: duplicate 'bmi' (also at [0])"},
      // aggregation.
      {R"({"model_id": "m", "aggregation": 3})",
       "$.aggregation: expected an object or a string, got number"},
      {R"({"model_id": "m", "aggregation": {"method": 3}})",
       "$.aggregation.method: expected a string, got number"},
      {R"({"model_id": "m", "aggregation": {"method": "mean"}})",
       "$.aggregation.method: unknown method 'mean' (expected federated_averaging, "
       "weighted_average, median or trimmed_mean)"},
      {R"({"model_id": "m", "aggregation": "fedavg"})",
       "$.aggregation: unknown method 'fedavg' (expected federated_averaging, "
       "weighted_average, median or trimmed_mean)"},
      {R"({"model_id": "m", "aggregation": {"methd": "federated_averaging"}})",
       "$.aggregation.methd: unknown key (did you mean 'method'?)"},
      // aggregation.weights.
      {R"({"model_id": "m", "aggregation": {"method": "federated_averaging", "weights": {}}})",
       "$.aggregation.weights: only for method weighted_average, not federated_averaging"},
      {R"({"model_id": "m", "aggregation": {"weights": [1]}})",
       "$.aggregation.weights: only for method weighted_average, not federated_averaging"},
      {R"({"model_id": "m", "aggregation": {"method": "weighted_average", "weights": 2}})",
       "$.aggregation.weights: expected an object or an array, got number"},
      {R"({"model_id": "m", "aggregation": {"method": "weighted_average", "weights": [1, 2]}})",
       "$.aggregation.weights: an array of weights needs \"nodes\" to say whose they are (or "
       "give them by node id: {\"node-id\": weight})"},
      {R"({"model_id": "m", "nodes": ["a", "b", "c"],
           "aggregation": {"method": "weighted_average", "weights": [1, 2]}})",
       "$.aggregation.weights: 2 weights for 3 nodes"},
      {R"({"model_id": "m", "nodes": ["a", "b"],
           "aggregation": {"method": "weighted_average", "weights": [1, -2]}})",
       "$.aggregation.weights[1]: must be >= 0, got -2"},
      {R"({"model_id": "m", "nodes": ["a", "b"],
           "aggregation": {"method": "weighted_average", "weights": [1, "2"]}})",
       "$.aggregation.weights[1]: expected a number, got string"},
      {R"({"model_id": "m", "nodes": ["a", "b"],
           "aggregation": {"method": "weighted_average", "weights": [0, 0]}})",
       "$.aggregation.weights: must not all be zero"},
      {R"({"model_id": "m", "nodes": ["a", "b"],
           "aggregation": {"method": "weighted_average", "weights": {"a": 1, "ghost": 2}}})",
       "$.aggregation.weights.ghost: node 'ghost' is not in $.nodes"},
      {R"({"model_id": "m", "nodes": ["a", "b"],
           "aggregation": {"method": "weighted_average", "weights": {"a": 1}}})",
       "$.aggregation.weights: no weight for node 'b'"},
      {R"({"model_id": "m", "nodes": ["a", "b b"],
           "aggregation": {"method": "weighted_average", "weights": {"a": 1, "b b": -1}}})",
       "$.aggregation.weights['b b']: must be >= 0, got -1"},
      {R"({"model_id": "m", "aggregation": {"method": "weighted_average", "weights": {}}})",
       "$.aggregation.weights: must not be empty"},
      // aggregation.trim.
      {R"({"model_id": "m", "aggregation": {"trim": 0.1}})",
       "$.aggregation.trim: only for method trimmed_mean, not federated_averaging"},
      {R"({"model_id": "m", "aggregation": {"method": "trimmed_mean", "trim": 0.5}})",
       "$.aggregation.trim: must be in [0, 0.5), got 0.5"},
      {R"({"model_id": "m", "aggregation": {"method": "trimmed_mean", "trim": -0.1}})",
       "$.aggregation.trim: must be in [0, 0.5), got -0.1"},
      {R"({"model_id": "m", "aggregation": {"method": "trimmed_mean", "trim": "10%"}})",
       "$.aggregation.trim: expected a number, got string"},
      // aggregation.differential_privacy.
      {R"({"model_id": "m", "aggregation": {"differential_privacy": {"epsilon": 1}}})",
       "$.aggregation.differential_privacy.clip: missing required key"},
      {R"({"model_id": "m", "aggregation": {"differentialPrivacy": {"clip": [0, 1]}}})",
       "$.aggregation.differentialPrivacy.epsilon: missing required key"},
      {R"({"model_id": "m", "aggregation": {"differential_privacy": {"epsilon": 0, "clip": [0, 1]}}})",
       "$.aggregation.differential_privacy.epsilon: must be > 0, got 0"},
      {R"({"model_id": "m", "aggregation": {"differential_privacy": {"epsilon": 1, "clip": [1, 0]}}})",
       "$.aggregation.differential_privacy.clip: lo must be < hi, got [1,0]"},
      {R"({"model_id": "m", "aggregation": {"differential_privacy": {"epsilon": 1, "clip": [1]}}})",
       "$.aggregation.differential_privacy.clip: expected [lo, hi], two numbers, got [1]"},
      {R"({"model_id": "m", "aggregation": {"differential_privacy": {"epsilon": 1, "clip": [0, 1],
           "delta": 0.1}}})",
       "$.aggregation.differential_privacy.delta: unknown key"},
      {R"({"model_id": "m", "aggregation": {"differential_privacy": 1}})",
       "$.aggregation.differential_privacy: expected an object, got number"},
      // task.
      {R"({"model_id": "m", "task": "clustering"})",
       "$.task: unknown task 'clustering' (expected classification or regression)"},
      {R"({"model_id": "m", "task": 1})", "$.task: expected a string, got number"},
      // min_nodes.
      {R"({"model_id": "m", "min_nodes": 0})", "$.min_nodes: must be >= 1, got 0"},
      {R"({"model_id": "m", "minNodes": -2})", "$.minNodes: must be >= 1, got -2"},
      {R"({"model_id": "m", "min_nodes": 1.5})", "$.min_nodes: expected an integer, got 1.5"},
      {R"({"model_id": "m", "min_nodes": "2"})", "$.min_nodes: expected an integer, got string"},
      {R"({"model_id": "m", "min_nodes": 3000000000})",
       "$.min_nodes: must be <= 2147483647, got 3000000000"},
      {R"({"model_id": "m", "nodes": ["a", "b"], "min_nodes": 3})",
       "$.min_nodes: must be <= the number of nodes (2), got 3"},
      {R"({"model_id": "m", "nodes": ["a"], "minNodes": 2})",
       "$.minNodes: must be <= the number of nodes (1), got 2"},
      // timeout.
      {R"({"model_id": "m", "timeout": 0})", "$.timeout: must be > 0, got 0"},
      {R"({"model_id": "m", "timeout": -1.5})", "$.timeout: must be > 0, got -1.5"},
      {R"({"model_id": "m", "timeout": "30s"})", "$.timeout: expected a number, got string"},
      // Node selection: only when the orchestrator chooses the nodes.
      {R"({"model_id": "m", "nodes": ["a"], "reputation_min": 0.5})",
       "$.reputation_min: only when the orchestrator chooses the nodes; this config lists them "
       "in $.nodes"},
      {R"({"model_id": "m", "nodes": ["a"], "labels": {"site": "a"}})",
       "$.labels: only when the orchestrator chooses the nodes; this config lists them in $.nodes"},
      {R"({"model_id": "m", "nodes": ["a"], "maxNodes": 1})",
       "$.maxNodes: only when the orchestrator chooses the nodes; this config lists them in "
       "$.nodes"},
      {R"({"model_id": "m", "reputationMin": 1.5})", "$.reputationMin: must be in [0, 1], got 1.5"},
      {R"({"model_id": "m", "reputation_min": -0.1})",
       "$.reputation_min: must be in [0, 1], got -0.1"},
      {R"({"model_id": "m", "reputation_min": "high"})",
       "$.reputation_min: expected a number, got string"},
      {R"({"model_id": "m", "labels": ["site=a"]})",
       "$.labels: expected an object of strings, got array"},
      {R"({"model_id": "m", "labels": {"site": 3}})", "$.labels.site: expected a string, got number"},
      {R"({"model_id": "m", "labels": {"": "x"}})", "$.labels: a label name must not be empty"},
      {R"({"model_id": "m", "max_nodes": 0})", "$.max_nodes: must be >= 1, got 0"},
      {R"({"model_id": "m", "min_nodes": 3, "max_nodes": 2})",
       "$.max_nodes: must be >= min_nodes (3), got 2"},
      // Unknown keys.
      {R"({"modelid": "m"})", "$.modelid: unknown key (did you mean 'model_id'?)"},
      {R"({"model_id": "m", "timeoutSeconds": 3})", "$.timeoutSeconds: unknown key"},
      {R"({"model_id": "m", "node": ["a"]})", "$.node: unknown key (did you mean 'nodes'?)"},
      {R"({"model_id": "m", "model_ids": ["a", "b"]})",
       "$.model_ids: unknown key (did you mean 'model_id'?)"},
      {R"({"model_id": "m", "pipeline": []})", "$.pipeline: unknown key"},
      // The same key twice in the text.
      {R"({"model_id": "m", "nodes": ["a"], "nodes": ["b"]})", "$.nodes: duplicate key"},
      {R"({"model_id": "m", "aggregation": {"method": "federated_averaging", "method": "median"}})",
       "$.aggregation.method: duplicate key"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(ParseError(text), message) << text;
  }
}

TEST(CollaborativeConfig, UnknownKeysComeBeforeTypeErrors) {
  // A typo is reported even when another value is wrong too.
  EXPECT_EQ(ParseError(R"({"model_id": 5, "datset": "d"})"),
            "$.datset: unknown key (did you mean 'dataset'?)");
}

TEST(CollaborativeConfig, MalformedJsonNamesTheByte) {
  EXPECT_EQ(ParseError(R"({"model_id": "m",})"),
            "invalid JSON at byte 18: syntax error while parsing object key - unexpected '}'; "
            "expected string literal");
  EXPECT_THAT(ParseError(""), StartsWith("invalid JSON at byte 1: "));
  EXPECT_THAT(ParseError(R"({"model_id": "m"} x)"), StartsWith("invalid JSON at byte 19: "));
}

TEST(CollaborativeConfig, CanonicalJsonHasSnakeCaseKeysAndDefaults) {
  CollaborativeConfig c = ParseOk(R"({"modelId": "m"})");
  EXPECT_EQ(CollaborativeConfigToJson(c), json::parse(R"({
    "model_id": "m", "dataset": "default", "columns": [],
    "aggregation": {"method": "federated_averaging"}
  })"));
}

TEST(CollaborativeConfig, CanonicalJsonRoundTrips) {
  CollaborativeConfig c = ParseOk(R"({
    "modelId": "m", "nodes": ["b", "a"], "dataset": "d", "columns": ["z", "y"],
    "aggregation": "federated_averaging", "task": "classification", "minNodes": 2,
    "timeout": 0.25
  })");
  json canonical = CollaborativeConfigToJson(c);
  EXPECT_EQ(canonical, json::parse(R"({
    "model_id": "m", "nodes": ["b", "a"], "dataset": "d", "columns": ["z", "y"],
    "aggregation": {"method": "federated_averaging"}, "task": "classification",
    "min_nodes": 2, "timeout": 0.25
  })"));
  ExpectSame(ParseOk(canonical.dump()), c);
}

TEST(CollaborativeConfig, ReadsNodeSelectionKeys) {
  CollaborativeConfig c = ParseOk(R"({"model_id": "m", "reputationMin": 0.75,
      "labels": {"region": "eu", "gpu": "yes"}, "max_nodes": 3, "min_nodes": 2})");
  EXPECT_EQ(c.reputation_min, 0.75);
  EXPECT_EQ(c.labels, (std::map<std::string, std::string>{{"gpu", "yes"}, {"region", "eu"}}));
  EXPECT_EQ(c.max_nodes, 3);
  json canonical = CollaborativeConfigToJson(c);
  EXPECT_EQ(canonical["reputation_min"], 0.75);
  EXPECT_EQ(canonical["labels"], json::parse(R"({"region": "eu", "gpu": "yes"})"));
  EXPECT_EQ(canonical["max_nodes"], 3);
  ExpectSame(ParseOk(canonical.dump()), c);
  // Unset: left out of the canonical form.
  json plain = CollaborativeConfigToJson(ParseOk(R"({"model_id": "m"})"));
  EXPECT_FALSE(plain.contains("reputation_min"));
  EXPECT_FALSE(plain.contains("labels"));
  EXPECT_FALSE(plain.contains("max_nodes"));
}

TEST(CollaborativeConfig, CanonicalJsonRoundTripsAggregationSettings) {
  for (const char* text : {
           R"({"model_id": "m", "nodes": ["a", "b"], "aggregation": {"method": "weighted_average",
               "weights": [2, 1], "differential_privacy": {"epsilon": 2, "clip": [0, 1]}}})",
           R"({"model_id": "m", "aggregation": {"method": "trimmed_mean", "trim": 0.25}})",
       }) {
    CollaborativeConfig c = ParseOk(text);
    json canonical = CollaborativeConfigToJson(c);
    ExpectSame(ParseOk(canonical.dump()), c);
  }
  CollaborativeConfig in_order = ParseOk(R"({"model_id": "m", "nodes": ["a", "b"],
      "aggregation": {"method": "weighted_average", "weights": [2, 1]}})");
  EXPECT_EQ(CollaborativeConfigToJson(in_order)["aggregation"],
            json::parse(R"({"method": "weighted_average", "weights": {"a": 2, "b": 1}})"));
}

}  // namespace
}  // namespace dim::core
