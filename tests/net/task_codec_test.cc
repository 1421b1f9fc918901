// The daemon wire's codecs: node tasks to SubmitJobRequest and back (task_codec.h), rows as
// float32 tensors (tensor_codec.h), and a completed task's status back to its typed result.
#include "net/task_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <string>

#include "core/stats/summary.h"
#include "core/text.h"
#include "net/tensor_codec.h"

namespace dim::net {
namespace {

using core::ConsensusMethod;
using core::Matrix;
using core::NodeTask;
using core::NodeTaskKind;
using core::Result;
using core::StatusCode;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A daemon request as a peer would send it.
Result<NodeTask> FromRequest(const std::string& job_id, const std::string& model_id,
                             const std::string& data_source, const std::string& params) {
  dim::daemon::SubmitJobRequest req;
  req.set_job_id(job_id);
  req.set_model_id(model_id);
  req.set_data_source(data_source);
  req.set_input_data_json(params);
  return TaskFromRequest(req);
}

TEST(TaskCodec, ParamsJsonRoundTrips) {
  NodeTask task;
  task.job_id = "job-1";
  task.model_id = "heart_mlp";
  task.dataset = "hospital_a";
  task.columns = {"age", "bmi"};
  task.task = "classification";
  auto back = FromRequest("job-1", "heart_mlp", "hospital_a", NodeTaskParamsJson(task));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->job_id, "job-1");
  EXPECT_EQ(back->model_id, "heart_mlp");
  EXPECT_EQ(back->dataset, "hospital_a");
  EXPECT_THAT(back->columns, ElementsAre("age", "bmi"));
  EXPECT_EQ(back->task, "classification");
}

TEST(TaskCodec, ParamsJsonOfAPlainTaskIsAnEmptyObject) {
  NodeTask task;
  task.job_id = "j";
  task.model_id = "m";
  EXPECT_EQ(NodeTaskParamsJson(task), "{}");
}

TEST(TaskCodec, EmptyParamsAndDataSourceTakeDefaults) {
  for (const char* params : {"", "{}"}) {
    auto task = FromRequest("j", "m", "", params);
    ASSERT_TRUE(task.ok()) << params << ": " << task.status().ToString();
    EXPECT_EQ(task->dataset, NodeTask().dataset);
    EXPECT_THAT(task->columns, IsEmpty());
    EXPECT_EQ(task->task, "");
  }
}

TEST(TaskCodec, RegressionIsAccepted) {
  auto task = FromRequest("j", "m", "d", R"({"task":"regression"})");
  ASSERT_TRUE(task.ok()) << task.status().ToString();
  EXPECT_EQ(task->task, "regression");
}

struct BadRequest {
  std::string job_id;
  std::string model_id;
  std::string params;
  std::string message;
};

TEST(TaskCodec, MalformedRequestIsInvalidArgumentNamingTheField) {
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
    auto task = FromRequest(c.job_id, c.model_id, "d", c.params);
    ASSERT_FALSE(task.ok()) << c.params;
    EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument) << c.params;
    EXPECT_EQ(task.status().message(), c.message) << c.params;
  }
}

TEST(TaskCodec, ComparativeParamsRoundTrip) {
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
  auto back = FromRequest("job-2", "a", "d", params);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->kind, NodeTaskKind::kComparative);
  EXPECT_THAT(back->model_ids, ElementsAre("a", "b", "c"));
  EXPECT_THAT(back->columns, ElementsAre("age"));
  EXPECT_EQ(back->consensus.method, ConsensusMethod::kWeightedVote);
  EXPECT_THAT(back->consensus.weights, ElementsAre(1.0, 0.0, 2.5));

  task.consensus = {};
  task.consensus.method = ConsensusMethod::kExpertReview;
  task.consensus.min_agreement = 0.5;
  back = FromRequest("job-2", "a", "d", NodeTaskParamsJson(task));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->consensus.method, ConsensusMethod::kExpertReview);
  EXPECT_EQ(back->consensus.min_agreement, 0.5);
}

TEST(TaskCodec, ParamsWithoutKindOrWithKindSummaryAreASummaryTask) {
  for (const char* params : {R"({"columns":["x"]})", R"({"kind":"summary","columns":["x"]})"}) {
    auto task = FromRequest("j", "m", "d", params);
    ASSERT_TRUE(task.ok()) << params << ": " << task.status().ToString();
    EXPECT_EQ(task->kind, NodeTaskKind::kSummary);
    EXPECT_THAT(task->model_ids, IsEmpty());
  }
}

TEST(TaskCodec, MalformedComparativeRequestIsInvalidArgumentNamingTheField) {
  const BadRequest cases[] = {
      {"j", "a", R"({"kind":"vote"})",
       "input_data_json.kind: expected summary, comparative or step"},
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
    auto task = FromRequest(c.job_id, c.model_id, "d", c.params);
    ASSERT_FALSE(task.ok()) << c.params;
    EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument) << c.params;
    EXPECT_EQ(task.status().message(), c.message) << c.params;
  }
}

TEST(TaskCodec, StepParamsRoundTripWithRowsOrThroughTheDataset) {
  NodeTask task;
  task.job_id = "job-3.step2.try1";
  task.kind = NodeTaskKind::kStep;
  task.model_id = "b";
  task.through = {"a"};
  task.columns = {"x", "y"};
  auto back = FromRequest(task.job_id, "b", "d", NodeTaskParamsJson(task));
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
  task.rows_as_json = true;
  EXPECT_EQ(NodeTaskParamsJson(task), R"({"kind":"step","rows":[[1.0,2.5,-3.0],[4.0,5.0,6.0]]})");
  back = FromRequest(task.job_id, "b", "", NodeTaskParamsJson(task));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->input_rows.has_value());
  EXPECT_EQ(*back->input_rows, rows);
  EXPECT_TRUE(back->rows_as_json);  // so that its output rows go back as JSON too

  // As a tensor: the parameters say only that it is a step.
  task.rows_as_json = false;
  dim::daemon::SubmitJobRequest req;
  ToRequest(task, &req);
  EXPECT_EQ(req.input_data_json(), R"({"kind":"step"})");
  EXPECT_EQ(req.input_rows().data().size(), size_t{6 * 4});
  back = TaskFromRequest(req);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->input_rows.has_value());
  EXPECT_EQ(*back->input_rows, rows);
  EXPECT_FALSE(back->rows_as_json);

  // Rows sent both ways, or with a task that takes none, are refused.
  req.set_input_data_json(R"({"kind":"step","rows":[[1]]})");
  EXPECT_EQ(TaskFromRequest(req).status().message(),
            "input_rows: the rows are also in input_data_json.rows; send them once");
  req.set_input_data_json("{}");
  EXPECT_EQ(TaskFromRequest(req).status().message(), "input_rows: only a step task takes rows");
  req.set_input_data_json(R"({"kind":"step","through":["a"]})");
  EXPECT_EQ(TaskFromRequest(req).status().message(),
            "input_data_json.through: only used when the step reads a dataset, not with rows");
}

TEST(TaskCodec, MalformedStepRequestIsInvalidArgumentNamingTheField) {
  struct Case {
    const char* params;
    const char* message;
  };
  const Case cases[] = {
      {R"({"kind":"step","rows":[]})", "input_data_json.rows: expected a non-empty array"},
      {R"({"kind":"step","rows":[[1,2],[3]]})",
       "input_data_json.rows[1]: expected 2 numbers like row 0"},
      {R"({"kind":"step","rows":[[1,"x"]]})",
       "input_data_json.rows[0][1]: expected a finite number"},
      {R"({"kind":"step","rows":[[1]],"through":["a"]})",
       "input_data_json.through: only used when the step reads a dataset, not with rows"},
      {R"({"kind":"step","task":"regression"})", "input_data_json.task: unknown key"},
      {R"({"rows":[[1]]})", "input_data_json.rows: unknown key"},
  };
  for (const auto& c : cases) {
    auto task = FromRequest("j", "m", "d", c.params);
    ASSERT_FALSE(task.ok()) << c.params;
    EXPECT_EQ(task.status().code(), StatusCode::kInvalidArgument) << c.params;
    EXPECT_EQ(task.status().message(), c.message) << c.params;
  }
  // More numbers than a task may carry.
  std::string big = R"({"kind":"step","rows":[)";
  for (int r = 0; r < 100001; ++r) big += std::string(r ? "," : "") + "[1,2,3,4,5]";
  big += "]}";
  auto task = FromRequest("j", "m", "d", big);
  ASSERT_FALSE(task.ok());
  EXPECT_EQ(task.status().message(),
            "input_data_json.rows: 500005 numbers, more than the 500000 a task may carry");
}

// Float32 little-endian, row after row, whatever the machine's byte order.
TEST(TensorCodec, RowsAreFloat32LittleEndianRowMajor) {
  Matrix rows(2, 2);
  rows << 1, -2, 0.5f, 3;
  dim::common::Tensor t;
  ToTensor(rows, &t, {"x", "y"});
  EXPECT_EQ(t.dtype(), "float32");
  EXPECT_THAT(t.shape(), ElementsAre(2, 2));
  EXPECT_THAT(t.columns(), ElementsAre("x", "y"));
  // 1.0f = 0x3f800000, -2.0f = 0xc0000000, 0.5f = 0x3f000000, 3.0f = 0x40400000.
  const std::string want("\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x00\x3f\x00\x00\x40\x40", 16);
  EXPECT_EQ(t.data(), want);
  auto back = MatrixFromTensor(t, "rows", 100);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, rows);
  auto data = ClientDataFromTensor(t, "rows", 100);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(data->rows, 2);
  EXPECT_EQ(data->width, 2);
  EXPECT_THAT(data->columns, ElementsAre("x", "y"));
  EXPECT_THAT(data->values, ElementsAre(1, -2, 0.5f, 3));
  // And back again from client data, bit for bit.
  dim::common::Tensor again;
  ToTensor(*data, &again);
  EXPECT_EQ(again.SerializeAsString(), t.SerializeAsString());
}

TEST(TensorCodec, MalformedTensorsAreInvalidArgumentNamingTheField) {
  auto tensor = [](std::string dtype, std::vector<int64_t> shape, size_t bytes) {
    dim::common::Tensor t;
    t.set_dtype(std::move(dtype));
    for (int64_t d : shape) t.add_shape(d);
    t.set_data(std::string(bytes, '\0'));
    return t;
  };
  struct Case {
    dim::common::Tensor t;
    std::string message;
  };
  const Case cases[] = {
      {tensor("int8", {1, 1}, 4), "input_rows.dtype: expected float32, got 'int8'"},
      {tensor("", {1, 1}, 4), "input_rows.dtype: expected float32, got ''"},
      {tensor("float32", {4}, 16),
       "input_rows.shape: expected [rows, columns], both at least 1, got [4]"},
      {tensor("float32", {0, 3}, 0),
       "input_rows.shape: expected [rows, columns], both at least 1, got [0, 3]"},
      {tensor("float32", {2, -1}, 0),
       "input_rows.shape: expected [rows, columns], both at least 1, got [2, -1]"},
      {tensor("float32", {2, 2}, 12),
       "input_rows.data: 12 bytes, expected 16 for shape [2, 2] of float32"},
      {tensor("float32", {2, 2}, 20),
       "input_rows.data: 20 bytes, expected 16 for shape [2, 2] of float32"},
      // A shape whose product overflows is too large, not a small tensor.
      {tensor("float32", {int64_t{1} << 62, 4}, 16),
       "input_rows.shape: [4611686018427387904, 4] holds more than the 100 values a message "
       "may carry"},
      {tensor("float32", {11, 10}, 440),
       "input_rows.shape: [11, 10] holds more than the 100 values a message may carry"},
  };
  for (const auto& c : cases) {
    auto m = MatrixFromTensor(c.t, "input_rows", 100);
    ASSERT_FALSE(m.ok()) << c.message;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(m.status().message(), c.message);
    EXPECT_EQ(ClientDataFromTensor(c.t, "input_rows", 100).status().message(), c.message);
  }
  // A value that is not finite, named by its row and column.
  dim::common::Tensor nan = tensor("float32", {2, 2}, 16);
  const float bad = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(nan.mutable_data()->data() + 12, &bad, 4);  // NaN's bytes are the same either way
  EXPECT_EQ(MatrixFromTensor(nan, "input_rows", 100).status().message(),
            "input_rows.data[1][1]: expected a finite number");
  // Column names: one per column, unique, non-empty.
  dim::common::Tensor named = tensor("float32", {1, 2}, 8);
  named.add_columns("a");
  EXPECT_EQ(ClientDataFromTensor(named, "input_rows", 100).status().message(),
            "input_rows.columns: 1 names for 2 columns");
  named.add_columns("a");
  EXPECT_EQ(ClientDataFromTensor(named, "input_rows", 100).status().message(),
            "input_rows.columns[1]: 'a' given twice");
  named.set_columns(1, "");
  EXPECT_EQ(ClientDataFromTensor(named, "input_rows", 100).status().message(),
            "input_rows.columns[1]: must not be empty");
}

// A completed status read back as the task's typed result, and what a lying node may send.
TEST(TaskCodec, StatusReadsBackAsTheTasksResult) {
  NodeTask step;
  step.job_id = "j";
  step.kind = NodeTaskKind::kStep;
  step.input_rows = Matrix::Ones(2, 3);
  core::StepOutput out;
  out.summary.rows = 2;
  out.width = 1;
  Matrix rows(2, 1);
  rows << 7, -7;
  out.rows = rows;
  core::TaskView view;
  view.job_id = "j";
  view.state = core::TaskState::kCompleted;
  view.result = std::make_shared<const core::TaskResult>(out);
  view.result_json = core::DumpJson(core::TaskDocument(step, *view.result, false));
  dim::daemon::JobStatusResponse resp;
  ToStatus(view, &resp);
  EXPECT_THAT(resp.output_rows().shape(), ElementsAre(2, 1));
  auto back = TaskResultFromStatus(step, resp);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*std::get<core::StepOutput>(*back).rows, rows);

  // A vote: every figure back as it was.
  NodeTask comparative;
  comparative.kind = NodeTaskKind::kComparative;
  comparative.model_ids = {"a", "b"};
  comparative.consensus.method = ConsensusMethod::kExpertReview;
  core::ConsensusResult vote;
  vote.rows = 3;
  vote.classes = 2;
  vote.class_counts = {1, 2};
  vote.agreement_level = 0.75;
  vote.model_agreement = {1, 0.5};
  vote.model_class_counts = {{1, 2}, {2, 1}};
  vote.pairwise_agreement = {{1, 0.5}, {0.5, 1}};
  vote.review_count = 1;
  vote.review_rows = {2};
  dim::daemon::JobStatusResponse vote_resp;
  vote_resp.set_result_json(core::ConsensusToJson(vote, ConsensusMethod::kExpertReview).dump());
  auto read = TaskResultFromStatus(comparative, vote_resp);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  const auto& got = std::get<core::ConsensusResult>(*read);
  EXPECT_EQ(got.class_counts, vote.class_counts);
  EXPECT_EQ(got.model_class_counts, vote.model_class_counts);
  EXPECT_EQ(got.pairwise_agreement, vote.pairwise_agreement);
  EXPECT_EQ(got.review_rows, vote.review_rows);
  EXPECT_EQ(got.agreement_level, 0.75);

  // Figures that do not fit the vote's own shape.
  auto lie = core::ConsensusToJson(vote, ConsensusMethod::kExpertReview);
  lie["pairwise_agreement"][1] = {0.5};
  vote_resp.set_result_json(lie.dump());
  EXPECT_EQ(TaskResultFromStatus(comparative, vote_resp).status().message(),
            "malformed vote: pairwise_agreement[1]: expected 2 values");
  lie = core::ConsensusToJson(vote, ConsensusMethod::kExpertReview);
  lie["class_counts"] = {1, -2};
  vote_resp.set_result_json(lie.dump());
  EXPECT_EQ(TaskResultFromStatus(comparative, vote_resp).status().message(),
            "malformed vote: class_counts: expected non-negative integers");
  comparative.model_ids.push_back("c");
  vote_resp.set_result_json(core::ConsensusToJson(vote, ConsensusMethod::kExpertReview).dump());
  EXPECT_EQ(TaskResultFromStatus(comparative, vote_resp).status().message(),
            "malformed vote: 2 models voted, not 3");
}

}  // namespace
}  // namespace dim::net
