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
  const NodeTask task{
      .job_id = "j", .model_id = "m", .dataset = "default", .columns = {}, .task = {}};
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
      {"j", "m", "{", "input_data_json: expected a JSON object"},
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

}  // namespace
}  // namespace dim::core
