// The tables of `dim ls` and `dim health`, and the JSON keys scripts read
// (src/cli/output.h).
#include "cli/output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "core/clock.h"

namespace dim::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const auto kNow = *core::ParseIso8601("2026-11-25T12:00:00.000Z");

// The line of `text` that starts with `start`, or "".
std::string LineOf(const std::string& text, const std::string& start) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(start, 0) == 0) return line;
  }
  return "";
}

std::vector<std::string> Keys(const nlohmann::json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.items()) keys.push_back(key);
  return keys;
}

core::NodeTaskRecord Task(std::string node_id, std::string status = "pending",
                          std::string error = {}) {
  core::NodeTaskRecord task;
  task.node_id = std::move(node_id);
  task.state = core::ParseTaskState(status).value();
  task.error = core::ParseStatusText(error);
  return task;
}

HealthReport Report() {
  HealthReport report;
  report.server = "127.0.0.1:50051";
  report.status = "SERVING";
  report.version = "0.1.0";
  return report;
}

core::JobRecord Job(std::string id, core::Pattern pattern, std::string config) {
  core::JobRecord job;
  job.id = std::move(id);
  job.pattern = pattern;
  job.config_json = std::move(config);
  job.user_id = "alice";
  job.created_at = "2026-11-25T11:59:00.000Z";
  return job;
}

std::string List(const std::vector<core::JobRecord>& jobs) {
  core::JobPage page;
  page.jobs = jobs;
  page.total = static_cast<int64_t>(jobs.size());
  std::ostringstream out;
  PrintJobList(page, core::JobQuery{}, out, kNow);
  return out.str();
}

TEST(PrintJobList, ShowsModelDatasetDurationAndError) {
  auto done = Job("job-1", core::Pattern::kCollaborative,
                  R"({"model_id":"heart_mlp","dataset":"default","nodes":["a","b"]})");
  done.state = core::JobState::kCompleted;
  done.started_at = "2026-11-25T11:59:00.500Z";
  done.completed_at = "2026-11-25T11:59:02.750Z";
  auto failed = Job("job-2", core::Pattern::kComparative,
                    R"({"model_ids":["m1","m2","m3","m4","m5"],"node_id":"a","dataset":"clinic"})");
  failed.state = core::JobState::kFailed;
  failed.started_at = failed.created_at;
  failed.completed_at = "2026-11-25T11:59:00.009Z";
  failed.error = "the models disagree on their outputs:\n" + std::string(100, 'x');
  auto running = Job("job-3", core::Pattern::kChained,
                     R"({"pipeline":[{"step":1,"model_id":"a","input_source":"client_data"},)"
                     R"({"step":2,"model_id":"b","input_source":"dataset:clinic"}]})");
  running.state = core::JobState::kRunning;
  running.started_at = "2026-11-25T11:58:00.000Z";
  auto pending = Job("job-4", core::Pattern::kCollaborative, "not json");

  const std::string table = List({done, failed, running, pending});
  const std::string header = LineOf(table, "JOB");
  for (const char* column :
       {"STATE", "PATTERN", "MODEL", "DATASET", "USER", "NODES", "CREATED", "DURATION", "ERROR"}) {
    EXPECT_THAT(header, HasSubstr(column));
  }
  EXPECT_THAT(LineOf(table, "job-1"),
              ::testing::MatchesRegex(".*COMPLETED +collaborative +heart_mlp +default +alice "
                                      "+0/0 +2026-11-25T11:59:00.000Z +2.25s +-"));
  const std::string two = LineOf(table, "job-2");
  EXPECT_THAT(two, HasSubstr("m1, m2 +3"));
  EXPECT_THAT(two, HasSubstr("clinic"));
  EXPECT_THAT(two, HasSubstr("9ms"));
  // The error on one line, cut to 60 characters with an ellipsis.
  EXPECT_THAT(two, HasSubstr("the models disagree on their outputs: xxx"));
  EXPECT_THAT(two, ::testing::EndsWith("x\xE2\x80\xA6"));
  const std::string error = two.substr(two.find("the models"));
  EXPECT_EQ(error.size(), 59u + 3u);
  const std::string three = LineOf(table, "job-3");
  EXPECT_THAT(three, HasSubstr("a, b"));
  EXPECT_THAT(three, HasSubstr("client_data, clinic"));
  EXPECT_THAT(three, HasSubstr("2m"));  // running for two minutes at kNow
  EXPECT_THAT(LineOf(table, "job-4"), ::testing::MatchesRegex(".*PENDING +collaborative +- +- .*"));
}

TEST(PrintJobList, ColumnsLineUpPastCharactersOfSeveralBytes) {
  auto a = Job("job-1", core::Pattern::kCollaborative, R"({"model_id":"modèle"})");
  auto b = Job("job-2", core::Pattern::kCollaborative, R"({"model_id":"model"})");
  const std::string table = List({a, b});
  EXPECT_EQ(LineOf(table, "job-1").find("alice") - 1, LineOf(table, "job-2").find("alice"));
}

TEST(JobErrorSummary, LeavesOutTheNodeErrorsItRepeats) {
  auto job = Job("job-1", core::Pattern::kCollaborative, "{}");
  job.nodes = {Task("a", "failed", "UNAVAILABLE: node 'a' is unreachable"), Task("b", "completed")};
  job.error = "1 of 2 nodes succeeded (quorum 2): a: UNAVAILABLE: node 'a' is unreachable";
  EXPECT_EQ(JobErrorSummary(job), "1 of 2 nodes succeeded (quorum 2)");
  std::ostringstream out;
  PrintJob(job, out);
  EXPECT_THAT(LineOf(out.str(), "ERROR"),
              HasSubstr("1 of 2 nodes succeeded (quorum 2) (each node's error below)"));
  job.error = "something else";
  EXPECT_EQ(JobErrorSummary(job), "something else");
}

core::NodeDescription Node(std::string id) {
  core::NodeDescription n;
  n.id = std::move(id);
  n.address = "127.0.0.1:50061";
  n.source = "registered";
  n.last_seen = "2026-11-25T11:59:58.000Z";
  n.active_jobs = 1;
  n.queued_jobs = 0;
  n.max_concurrent_jobs = 4;
  n.resources.known = true;
  n.resources.cpu_available = 8;
  n.resources.memory_available_gb = 1234;
  n.resources.cpu_percent = 12;
  n.resources.memory_percent = 10;
  n.models = {"heart_mlp", "heart_mlp_v2", "heart_mlp_v3", "heart_risk", "heart_score"};
  core::DatasetEntry dataset;
  dataset.name = "default";
  dataset.shape.rows = 12345;
  dataset.shape.columns = {"age", "bmi"};
  n.datasets = {dataset};
  n.labels = {{"region", "eu"}, {"tier", "gold"}};
  return n;
}

TEST(PrintHealth, AgesReadableTasksAndMemoryShortListsAndThousands) {
  HealthReport report = Report();
  report.nodes = {Node("hospital-a"), Node("hospital-b")};
  report.nodes[1].last_seen = "2026-11-25T11:57:00.000Z";
  report.nodes[1].models = {"only"};
  report.nodes[1].active = false;
  std::ostringstream out;
  PrintHealth(report, out, false, kNow);
  const std::string table = out.str();
  EXPECT_THAT(LineOf(table, "NODE"), HasSubstr("LAST SEEN"));
  const std::string a = LineOf(table, "hospital-a");
  EXPECT_THAT(a, HasSubstr("  2s ago  "));
  EXPECT_THAT(a, HasSubstr("1 running, 0 queued / 4"));
  EXPECT_THAT(a, HasSubstr("1,234G free (10% used)"));
  EXPECT_THAT(a, HasSubstr("heart_mlp, heart_mlp_v2 +3"));
  EXPECT_THAT(a, HasSubstr("default(12,345)"));
  EXPECT_THAT(a, HasSubstr("region=eu,tier=gold"));
  const std::string b = LineOf(table, "hospital-b");
  EXPECT_THAT(b, HasSubstr("INACTIVE"));
  EXPECT_THAT(b, HasSubstr("3m ago"));
  EXPECT_THAT(b, HasSubstr("  only  "));
}

TEST(PrintHealth, OneNodeInFull) {
  HealthReport report = Report();
  report.nodes = {Node("hospital-a")};
  std::ostringstream out;
  PrintHealth(report, out, true, kNow);
  const std::string text = out.str();
  EXPECT_THAT(LineOf(text, "LAST SEEN"), HasSubstr("2026-11-25T11:59:58.000Z (2s ago)"));
  EXPECT_THAT(LineOf(text, "CPU"), HasSubstr("8 cores, 12.0% load"));
  EXPECT_THAT(LineOf(text, "MODELS"), HasSubstr("heart_mlp,heart_mlp_v2,heart_mlp_v3"));
  EXPECT_THAT(LineOf(text, "default"), HasSubstr("12,345"));
}

// Scripts read these keys: the tables change, -o json does not.
TEST(Json, KeysStayAsDocumented) {
  auto job = Job("job-1", core::Pattern::kCollaborative, R"({"model_id":"m"})");
  job.nodes = {Task("a")};
  const auto j = JobToJson(job, false);
  EXPECT_THAT(Keys(j), ::testing::UnorderedElementsAre(
                           "job_id", "state", "pattern", "user_id", "priority", "progress", "nodes",
                           "created_at", "started_at", "completed_at", "error"));
  EXPECT_THAT(Keys(j["nodes"][0]),
              ::testing::UnorderedElementsAre("node_id", "status", "execution_time", "error",
                                              "rows_done", "rows_total"));
  HealthReport report = Report();
  report.nodes = {Node("a")};
  const auto h = HealthToJson(report);
  EXPECT_THAT(Keys(h), ::testing::UnorderedElementsAre("server", "status", "version", "nodes"));
  EXPECT_THAT(Keys(h["nodes"][0]),
              ::testing::UnorderedElementsAre(
                  "node_id", "status", "address", "source", "last_seen", "datasets", "models",
                  "active_jobs", "queued_jobs", "max_concurrent_jobs", "labels", "resources",
                  "reputation", "tasks_succeeded", "tasks_failed", "error"));
  EXPECT_EQ(h["nodes"][0]["last_seen"], "2026-11-25T11:59:58.000Z");
  EXPECT_EQ(h["nodes"][0]["datasets"][0]["rows"], 12345);
}

}  // namespace
}  // namespace dim::cli
