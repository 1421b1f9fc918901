#include "core/node/node_task.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace dim::core {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

TEST(NodeTask, ParamsJsonRoundTrips) {
  NodeTask task;
  task.job_id = "job-1";
  task.model_id = "heart_mlp";
  task.dataset = "hospital_a";
  task.columns = {"age", "bmi"};
  task.task = "classification";
  auto back = NodeTaskFromRequest("job-1", "heart_mlp", "hospital_a", NodeTaskParamsJson(task));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->job_id, "job-1");
  EXPECT_EQ(back->model_id, "heart_mlp");
  EXPECT_EQ(back->dataset, "hospital_a");
  EXPECT_THAT(back->columns, ElementsAre("age", "bmi"));
  EXPECT_EQ(back->task, "classification");
}

TEST(NodeTask, ParamsJsonOfAPlainTaskIsAnEmptyObject) {
  const NodeTask task{.job_id = "j",
                      .kind = NodeTaskKind::kSummary,
                      .model_id = "m",
                      .model_ids = {},
                      .dataset = "default",
                      .columns = {},
                      .task = {},
                      .consensus = {},
                      .through = {},
                      .input_rows = {}};
  EXPECT_EQ(NodeTaskParamsJson(task), "{}");
}

TEST(NodeTask, EmptyParamsAndDataSourceTakeDefaults) {
  for (const char* params : {"", "{}"}) {
    auto task = NodeTaskFromRequest("j", "m", "", params);
    ASSERT_TRUE(task.ok()) << params << ": " << task.status().ToString();
    EXPECT_EQ(task->dataset, "default");
    EXPECT_THAT(task->columns, IsEmpty());
    EXPECT_EQ(task->task, "");
  }
}

TEST(NodeTask, RegressionIsAccepted) {
  auto task = NodeTaskFromRequest("j", "m", "d", R"({"task":"regression"})");
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->task, "regression");
}

struct BadRequest {
  std::string job_id;
  std::string model_id;
  std::string params;
  std::string message;
};

TEST(NodeTask, MalformedRequestIsInvalidArgumentNamingTheField) {
  const BadRequest cases[] = {
      {"", "m", "", "job_id: must not be empty"},
      {"j", "", "", "model_id: must not be empty"},
      {"j", "m", "{",
       "input_data_json: invalid JSON at byte 2: syntax error while parsing object "
       "key - unexpected end of input; expected string literal"},
      {"j", "m", R"({"task":"regression","task":"classification"})",
       "input_data_json: $.task: duplicate key"},
      {"j", "m", std::string(100, '['),
       "input_data_json: $: nested deeper than 64 levels (at byte 65)"},
      {"j", "m", "[1,2]", "input_data_json: expected a JSON object"},
      {"j", "m", "\"columns\"", "input_data_json: expected a JSON object"},
      {"j", "m", R"({"columns":"age"})", "input_data_json.columns: expected an array"},
      {"j", "m", R"({"columns":["age",3]})", "input_data_json.columns: expected strings"},
      {"j", "m", R"({"task":1})", "input_data_json.task: expected a string"},
      {"j", "m", R"({"task":"clustering"})",
       "input_data_json.task: expected classification or regression"},
      {"j", "m", R"({"colums":["age"]})", "input_data_json.colums: unknown key"},
  };
  for (const auto& c : cases) {
    auto task = NodeTaskFromRequest(c.job_id, c.model_id, "d", c.params);
    ASSERT_FALSE(task.ok()) << c.params;
    EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument) << c.params;
    EXPECT_EQ(task.status().message(), c.message) << c.params;
  }
}

TEST(NodeTask, ComparativeParamsRoundTrip) {
  NodeTask task;
  task.job_id = "job-2";
  task.kind = NodeTaskKind::kComparative;
  task.model_id = "a";
  task.model_ids = {"a", "b", "c"};
  task.columns = {"age"};
  task.consensus.method = ConsensusMethod::kWeightedVote;
  task.consensus.weights = {1, 0, 2.5};
  const std::string params = NodeTaskParamsJson(task);
  EXPECT_EQ(params,
            R"({"columns":["age"],"consensus":{"method":"weighted_vote","weights":[1.0,0.0,2.5]},)"
            R"("kind":"comparative","model_ids":["a","b","c"]})");
  auto back = NodeTaskFromRequest("job-2", "a", "d", params);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, NodeTaskKind::kComparative);
  EXPECT_THAT(back->model_ids, ElementsAre("a", "b", "c"));
  EXPECT_THAT(back->columns, ElementsAre("age"));
  EXPECT_EQ(back->consensus.method, ConsensusMethod::kWeightedVote);
  EXPECT_THAT(back->consensus.weights, ElementsAre(1.0, 0.0, 2.5));

  task.consensus = {};
  task.consensus.method = ConsensusMethod::kExpertReview;
  task.consensus.min_agreement = 0.5;
  back = NodeTaskFromRequest("job-2", "a", "d", NodeTaskParamsJson(task));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->consensus.method, ConsensusMethod::kExpertReview);
  EXPECT_EQ(back->consensus.min_agreement, 0.5);
}

TEST(NodeTask, ParamsWithoutKindOrWithKindSummaryAreASummaryTask) {
  for (const char* params : {R"({"columns":["x"]})", R"({"kind":"summary","columns":["x"]})"}) {
    auto task = NodeTaskFromRequest("j", "m", "d", params);
    ASSERT_TRUE(task.ok()) << params << ": " << task.status().ToString();
    EXPECT_EQ(task->kind, NodeTaskKind::kSummary);
    EXPECT_THAT(task->model_ids, IsEmpty());
  }
}

TEST(NodeTask, MalformedComparativeRequestIsInvalidArgumentNamingTheField) {
  const BadRequest cases[] = {
      {"j", "a", R"({"kind":"vote"})", "input_data_json.kind: expected summary, comparative or step"},
      {"j", "a", R"({"model_ids":["a","b"]})", "input_data_json.model_ids: unknown key"},
      {"j", "a", R"({"kind":"comparative","model_ids":["a","b"],"task":"regression"})",
       "input_data_json.task: unknown key"},
      {"j", "a", R"({"kind":"comparative","model_ids":["a"]})",
       "input_data_json.model_ids: a comparison needs at least 2 models, got 1"},
      {"j", "a", R"({"kind":"comparative"})",
       "input_data_json.model_ids: a comparison needs at least 2 models, got 0"},
      {"j", "a", R"({"kind":"comparative","model_ids":["b","a"]})",
       "input_data_json.model_ids[0]: 'b' is not the request's model_id 'a'"},
      {"j", "a", R"({"kind":"comparative","model_ids":["a","b"],"consensus":{"method":"x"}})",
       "input_data_json.consensus.method: expected a consensus method's name"},
      {"j", "a", R"({"kind":"comparative","model_ids":["a","b"],"consensus":{"weight":[1]}})",
       "input_data_json.consensus.weight: unknown key"},
      {"j", "a",
       R"({"kind":"comparative","model_ids":["a","b"],)"
       R"("consensus":{"method":"weighted_vote","weights":[1]}})",
       "input_data_json.weights: 1 weights for 2 models (one per model, in the order of "
       "model_ids)"},
      {"j", "a",
       R"({"kind":"comparative","model_ids":["a","b"],)"
       R"("consensus":{"method":"expert_review","min_agreement":2}})",
       "input_data_json.min_agreement: must be between 0 and 1"},
  };
  for (const auto& c : cases) {
    auto task = NodeTaskFromRequest(c.job_id, c.model_id, "d", c.params);
    ASSERT_FALSE(task.ok()) << c.params;
    EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument) << c.params;
    EXPECT_EQ(task.status().message(), c.message) << c.params;
  }
}

}  // namespace
TEST(NodeTask, StepParamsRoundTripWithRowsOrThroughTheDataset) {
  NodeTask task;
  task.job_id = "job-3.step2.try1";
  task.kind = NodeTaskKind::kStep;
  task.model_id = "b";
  task.through = {"a"};
  task.columns = {"x", "y"};
  auto back = NodeTaskFromRequest(task.job_id, "b", "d", NodeTaskParamsJson(task));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, NodeTaskKind::kStep);
  EXPECT_THAT(back->through, ElementsAre("a"));
  EXPECT_THAT(back->columns, ElementsAre("x", "y"));
  EXPECT_FALSE(back->input_rows.has_value());

  task.through.clear();
  task.columns.clear();
  Matrix rows(2, 3);
  rows << 1, 2.5f, -3, 4, 5, 6;
  task.input_rows = rows;
  EXPECT_EQ(NodeTaskParamsJson(task), R"({"kind":"step","rows":[[1.0,2.5,-3.0],[4.0,5.0,6.0]]})");
  back = NodeTaskFromRequest(task.job_id, "b", "", NodeTaskParamsJson(task));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->input_rows.has_value());
  EXPECT_EQ(*back->input_rows, rows);
}

TEST(NodeTask, MalformedStepRequestIsInvalidArgumentNamingTheField) {
  struct Case {
    const char* params;
    const char* message;
  };
  const Case cases[] = {
      {R"({"kind":"step","rows":[]})", "input_data_json.rows: expected a non-empty array"},
      {R"({"kind":"step","rows":[[1,2],[3]]})",
       "input_data_json.rows[1]: expected 2 numbers like row 0"},
      {R"({"kind":"step","rows":[[1,"x"]]})", "input_data_json.rows[0][1]: expected a finite number"},
      {R"({"kind":"step","rows":[[1]],"through":["a"]})",
       "input_data_json.through: only used when the step reads a dataset, not with rows"},
      {R"({"kind":"step","task":"regression"})", "input_data_json.task: unknown key"},
      {R"({"rows":[[1]]})", "input_data_json.rows: unknown key"},
  };
  for (const auto& c : cases) {
    auto task = NodeTaskFromRequest("j", "m", "d", c.params);
    ASSERT_FALSE(task.ok()) << c.params;
    EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument) << c.params;
    EXPECT_EQ(task.status().message(), c.message) << c.params;
  }
  // More numbers than a task may carry.
  std::string big = R"({"kind":"step","rows":[)";
  for (int r = 0; r < 100001; ++r) big += std::string(r ? "," : "") + "[1,2,3,4,5]";
  big += "]}";
  auto task = NodeTaskFromRequest("j", "m", "d", big);
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().message(),
            "input_data_json.rows: 500005 numbers, more than the 500000 a task may carry");
}

}  // namespace dim::core
