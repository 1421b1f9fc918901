#include "core/store/job_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A fresh directory per test (dir_), removed afterwards.
using JobStoreTest = dim::testing::ScratchDirTest;

std::unique_ptr<JobStore> OpenOrDie(const fs::path& path) {
  auto store = JobStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

JobRecord MakeJob(const std::string& id, const std::string& user = "alice",
                  JobState state = JobState::kPending) {
  JobRecord r;
  r.id = id;
  r.user_id = user;
  r.pattern = Pattern::kCollaborative;
  r.priority = Priority::kNormal;
  r.config_json = R"({"model_id":"heart_risk"})";
  r.state = state;
  r.created_at = "2026-01-01T00:00:00.000Z";
  return r;
}

// A record with every field set to something other than its default.
JobRecord FullJob(const std::string& id) {
  JobRecord r;
  r.id = id;
  r.user_id = "bob";
  r.pattern = Pattern::kChained;
  r.priority = Priority::kHigh;
  r.config_json = R"({"model_id":"m","note":"quotes \" and ünïcode"})";
  r.state = JobState::kRunning;
  r.result_json = R"({"rows":3})";
  r.error = "partial failure";
  NodeTaskRecord a;
  a.node_id = "node-a";
  a.state = TaskState::kCompleted;
  a.started_at = "2026-01-01T00:00:01.000Z";
  a.completed_at = "2026-01-01T00:00:02.500Z";
  a.execution_seconds = 1.5;
  NodeTaskRecord b;
  b.node_id = "node-b";
  b.state = TaskState::kFailed;
  b.error = Status::Unavailable("unreachable");
  b.started_at = "2026-01-01T00:00:01.000Z";
  b.completed_at = "2026-01-01T00:00:03.000Z";
  b.execution_seconds = 2.25;
  r.nodes = {a, b};
  r.completed_steps = 2;
  r.total_steps = 3;
  r.created_at = "2026-01-01T00:00:00.000Z";
  r.started_at = "2026-01-01T00:00:00.500Z";
  r.completed_at = "2026-01-01T00:00:04.000Z";
  return r;
}

void ExpectSameNodes(const std::vector<NodeTaskRecord>& got,
                     const std::vector<NodeTaskRecord>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].node_id, want[i].node_id) << i;
    EXPECT_EQ(got[i].state, want[i].state) << i;
    EXPECT_EQ(got[i].error, want[i].error) << i;
    EXPECT_EQ(got[i].started_at, want[i].started_at) << i;
    EXPECT_EQ(got[i].completed_at, want[i].completed_at) << i;
    EXPECT_DOUBLE_EQ(got[i].execution_seconds, want[i].execution_seconds) << i;
  }
}

void ExpectSameJob(const JobRecord& got, const JobRecord& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.user_id, want.user_id);
  EXPECT_EQ(got.pattern, want.pattern);
  EXPECT_EQ(got.priority, want.priority);
  EXPECT_EQ(got.config_json, want.config_json);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.result_json, want.result_json);
  EXPECT_EQ(got.error, want.error);
  ExpectSameNodes(got.nodes, want.nodes);
  EXPECT_EQ(got.completed_steps, want.completed_steps);
  EXPECT_EQ(got.total_steps, want.total_steps);
  EXPECT_EQ(got.created_at, want.created_at);
  EXPECT_EQ(got.started_at, want.started_at);
  EXPECT_EQ(got.completed_at, want.completed_at);
  EXPECT_EQ(got.seq, want.seq);
}

std::vector<std::string> Ids(const std::vector<JobRecord>& jobs) {
  std::vector<std::string> ids;
  for (const auto& j : jobs) ids.push_back(j.id);
  return ids;
}

TEST_F(JobStoreTest, InsertThenGetReturnsEveryField) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  JobRecord job = FullJob("job-1");
  ASSERT_TRUE(store->Insert(&job).ok());
  EXPECT_GT(job.seq, 0);

  auto got = store->Get("job-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameJob(*got, job);
}

TEST_F(JobStoreTest, InsertGivesIncreasingSeq) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  JobRecord a = MakeJob("a");
  JobRecord b = MakeJob("b");
  ASSERT_TRUE(store->Insert(&a).ok());
  ASSERT_TRUE(store->Insert(&b).ok());
  EXPECT_LT(a.seq, b.seq);
}

TEST_F(JobStoreTest, InsertOfTakenIdIsAlreadyExists) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  JobRecord first = MakeJob("dup", "alice");
  ASSERT_TRUE(store->Insert(&first).ok());
  JobRecord second = MakeJob("dup", "mallory");
  Status s = store->Insert(&second);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr("dup"));
  // The first record is untouched.
  auto got = store->Get("dup");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->user_id, "alice");
}

// Writes from many threads at once share transactions; each still gets its own result, a
// taken id fails alone, and every acknowledged write is in the file when reopened.
TEST_F(JobStoreTest, ConcurrentWritersEachGetTheirOwnResultAndAllAreStored) {
  const fs::path db = dir_ / "jobs.db";
  constexpr int kThreads = 8;
  constexpr int kJobsEach = 60;
  {
    auto store = OpenOrDie(db);
    ASSERT_NE(store, nullptr);
    JobRecord taken = MakeJob("taken");
    ASSERT_TRUE(store->Insert(&taken).ok());
    std::vector<std::thread> threads;
    std::vector<std::vector<int64_t>> seqs(kThreads);
    std::atomic<int> already_exists{0}, other_errors{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kJobsEach; ++i) {
          std::string id = "t";  // built with += (GCC 12's -Wrestrict misfires on a + chain)
          id += std::to_string(t);
          id += '-';
          id += std::to_string(i);
          JobRecord job = MakeJob(id);
          if (!store->Insert(&job).ok()) ++other_errors;
          seqs[static_cast<size_t>(t)].push_back(job.seq);
          job.state = JobState::kCompleted;
          job.result_json = R"({"thread":)";
          job.result_json += std::to_string(t);
          job.result_json += '}';
          if (!store->UpdateUnlessEnded(job).ok()) ++other_errors;
          // Ended: a second end is refused, alone.
          if (store->UpdateUnlessEnded(job).code() != StatusCode::kFailedPrecondition) {
            ++other_errors;
          }
          JobRecord dup = MakeJob("taken");
          if (store->Insert(&dup).code() == StatusCode::kAlreadyExists) ++already_exists;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(other_errors.load(), 0);
    EXPECT_EQ(already_exists.load(), kThreads * kJobsEach);
    std::vector<int64_t> all;
    for (const auto& s : seqs) all.insert(all.end(), s.begin(), s.end());
    std::sort(all.begin(), all.end());
    EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end()) << "a seq given twice";
  }
  auto reopened = OpenOrDie(db);
  ASSERT_NE(reopened, nullptr);
  JobQuery completed;
  completed.state = JobState::kCompleted;
  completed.limit = 1;
  auto page = reopened->List(completed);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, kThreads * kJobsEach);
  auto one = reopened->Get("t3-17");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(one->state, JobState::kCompleted);
  EXPECT_EQ(one->result_json, R"({"thread":3})");
  EXPECT_EQ(reopened->Get("taken")->state, JobState::kPending);
}

TEST_F(JobStoreTest, UpdateReplacesMutableFieldsIncludingNodes) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  JobRecord job = MakeJob("job-1");
  ASSERT_TRUE(store->Insert(&job).ok());

  JobRecord changed = FullJob("job-1");
  changed.user_id = job.user_id;
  changed.pattern = job.pattern;
  changed.config_json = job.config_json;
  changed.created_at = job.created_at;
  changed.seq = job.seq;
  ASSERT_TRUE(store->Update(changed).ok());

  auto got = store->Get("job-1");
  ASSERT_TRUE(got.ok());
  ExpectSameJob(*got, changed);

  // A second update can shrink the node list and clear fields again.
  changed.nodes.resize(1);
  changed.nodes[0].state = TaskState::kCancelled;
  changed.error.clear();
  changed.state = JobState::kCancelled;
  changed.priority = Priority::kLow;
  ASSERT_TRUE(store->Update(changed).ok());
  got = store->Get("job-1");
  ASSERT_TRUE(got.ok());
  ExpectSameJob(*got, changed);
}

TEST_F(JobStoreTest, UpdateOfUnknownIdIsNotFound) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  Status s = store->Update(MakeJob("ghost"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("ghost"));
  EXPECT_EQ(store->Get("ghost").status().code(), StatusCode::kNotFound);
}

TEST_F(JobStoreTest, UpdateUnlessEndedLeavesAnEndedJobAsItIs) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  JobRecord job = MakeJob("job-1");
  ASSERT_TRUE(store->Insert(&job).ok());
  job.state = JobState::kRunning;
  ASSERT_TRUE(store->UpdateUnlessEnded(job).ok());
  EXPECT_EQ(store->Get("job-1")->state, JobState::kRunning);

  job.state = JobState::kCancelled;
  ASSERT_TRUE(store->UpdateUnlessEnded(job).ok());
  JobRecord late = job;
  late.state = JobState::kCompleted;
  late.result_json = R"({"rows":3})";
  Status s = store->UpdateUnlessEnded(late);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("CANCELLED"));
  auto got = store->Get("job-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, JobState::kCancelled);
  EXPECT_TRUE(got->result_json.empty());

  EXPECT_EQ(store->UpdateUnlessEnded(MakeJob("ghost")).code(), StatusCode::kNotFound);
}

TEST_F(JobStoreTest, ListLeavesResultsOutAndGetKeepsThem) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  JobRecord job = FullJob("job-1");
  ASSERT_TRUE(store->Insert(&job).ok());
  auto page = store->List(JobQuery{});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->jobs.size(), 1u);
  EXPECT_TRUE(page->jobs[0].result_json.empty());
  EXPECT_EQ(page->jobs[0].nodes.size(), job.nodes.size());
  EXPECT_EQ(page->jobs[0].config_json, job.config_json);
  EXPECT_EQ(store->Get("job-1")->result_json, job.result_json);
}

TEST_F(JobStoreTest, GetOfUnknownIdIsNotFoundNamingIt) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  auto got = store->Get("job-404");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(got.status().message(), HasSubstr("job-404"));
}

// Fills the store with 6 jobs: u1 (3), u2 (3), states alternate PENDING/COMPLETED.
void Fill(JobStore& store) {
  const char* users[] = {"u1", "u2", "u1", "u2", "u1", "u2"};
  for (int i = 0; i < 6; ++i) {
    JobRecord j = MakeJob(std::string("j").append(std::to_string(i)), users[i],
                          i % 2 == 0 ? JobState::kPending : JobState::kCompleted);
    ASSERT_TRUE(store.Insert(&j).ok());
  }
}

TEST_F(JobStoreTest, ListIsNewestFirstWithTotal) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  Fill(*store);
  auto page = store->List(JobQuery{});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->total, 6);
  EXPECT_THAT(Ids(page->jobs), ElementsAre("j5", "j4", "j3", "j2", "j1", "j0"));
}

TEST_F(JobStoreTest, ListFiltersByUserAndState) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  Fill(*store);
  // j0 u1 P, j1 u2 C, j2 u1 P, j3 u2 C, j4 u1 P, j5 u2 C; flip j2 to COMPLETED.
  auto j2 = store->Get("j2");
  ASSERT_TRUE(j2.ok());
  j2->state = JobState::kCompleted;
  ASSERT_TRUE(store->Update(*j2).ok());

  JobQuery by_user;
  by_user.user_id = "u1";
  auto page = store->List(by_user);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 3);
  EXPECT_THAT(Ids(page->jobs), ElementsAre("j4", "j2", "j0"));

  JobQuery by_state;
  by_state.state = JobState::kCompleted;
  page = store->List(by_state);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 4);
  EXPECT_THAT(Ids(page->jobs), ElementsAre("j5", "j3", "j2", "j1"));

  JobQuery both;
  both.user_id = "u1";
  both.state = JobState::kPending;
  page = store->List(both);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 2);
  EXPECT_THAT(Ids(page->jobs), ElementsAre("j4", "j0"));

  JobQuery nobody;
  nobody.user_id = "u3";
  page = store->List(nobody);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 0);
  EXPECT_TRUE(page->jobs.empty());
}

TEST_F(JobStoreTest, ListPagesWithLimitAndOffset) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  Fill(*store);
  JobQuery q;
  q.limit = 2;
  q.offset = 1;
  auto page = store->List(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 6);  // before limit/offset
  EXPECT_THAT(Ids(page->jobs), ElementsAre("j4", "j3"));

  q.offset = 5;
  page = store->List(q);
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(Ids(page->jobs), ElementsAre("j0"));

  q.offset = 6;
  page = store->List(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 6);
  EXPECT_TRUE(page->jobs.empty());

  q.user_id = "u2";
  q.offset = 1;
  page = store->List(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->total, 3);
  EXPECT_THAT(Ids(page->jobs), ElementsAre("j3", "j1"));
}

TEST_F(JobStoreTest, ListRejectsLimitAndOffsetOutOfRange) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  Fill(*store);
  for (int limit : {0, -1, 1001}) {
    JobQuery q;
    q.limit = limit;
    auto page = store->List(q);
    ASSERT_FALSE(page.ok()) << limit;
    EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument) << limit;
    EXPECT_THAT(page.status().message(), HasSubstr("limit"));
    EXPECT_THAT(page.status().message(), HasSubstr(std::to_string(limit)));
  }
  for (int limit : {1, 1000}) {
    JobQuery q;
    q.limit = limit;
    auto page = store->List(q);
    ASSERT_TRUE(page.ok()) << limit;
    EXPECT_EQ(page->jobs.size(), static_cast<size_t>(std::min(limit, 6)));
  }
  JobQuery q;
  q.offset = -1;
  auto page = store->List(q);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(page.status().message(), HasSubstr("offset"));
}

TEST_F(JobStoreTest, ListInStatesIsOldestFirst) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  const JobState states[] = {JobState::kRunning, JobState::kCompleted, JobState::kPending,
                             JobState::kFailed,  JobState::kRunning,   JobState::kCancelled};
  for (int i = 0; i < 6; ++i) {
    JobRecord j = MakeJob(std::string("s").append(std::to_string(i)), "u", states[i]);
    ASSERT_TRUE(store->Insert(&j).ok());
  }
  auto unfinished = store->ListInStates({JobState::kPending, JobState::kRunning});
  ASSERT_TRUE(unfinished.ok()) << unfinished.status().ToString();
  EXPECT_THAT(Ids(*unfinished), ElementsAre("s0", "s2", "s4"));
  EXPECT_EQ((*unfinished)[1].state, JobState::kPending);

  auto ended = store->ListInStates({JobState::kCancelled});
  ASSERT_TRUE(ended.ok());
  EXPECT_THAT(Ids(*ended), ElementsAre("s5"));
}

TEST_F(JobStoreTest, RecordsSurviveReopeningTheFile) {
  const fs::path path = dir_ / "jobs.db";
  JobRecord full = FullJob("kept");
  JobRecord other = MakeJob("other");
  {
    auto store = OpenOrDie(path);
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Insert(&other).ok());
    JobRecord inserted = MakeJob("kept", "bob");
    ASSERT_TRUE(store->Insert(&inserted).ok());
    full.seq = inserted.seq;
    full.pattern = inserted.pattern;
    full.config_json = inserted.config_json;
    ASSERT_TRUE(store->Update(full).ok());
  }
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  auto got = store->Get("kept");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ExpectSameJob(*got, full);
  auto page = store->List(JobQuery{});
  ASSERT_TRUE(page.ok());
  EXPECT_THAT(Ids(page->jobs), ElementsAre("kept", "other"));

  // Seq keeps growing after a reopen, so newest-first stays right.
  JobRecord later = MakeJob("later");
  ASSERT_TRUE(store->Insert(&later).ok());
  EXPECT_GT(later.seq, full.seq);
}

TEST_F(JobStoreTest, AnExclusiveStoreRefusesASecondOpenUntilItCloses) {
  const fs::path db = dir_ / "orchestrator.db";
  {
    auto first = JobStore::Open(db, JobStore::Sharing::kExclusive);
    ASSERT_TRUE(first.ok()) << first.status().ToString();
    JobRecord job = MakeJob("kept");
    ASSERT_TRUE((*first)->Insert(&job).ok());
    auto second = JobStore::Open(db, JobStore::Sharing::kExclusive);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
    EXPECT_THAT(second.status().message(), HasSubstr("is in use by another process"));
  }
  auto reopened = JobStore::Open(db, JobStore::Sharing::kExclusive);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  EXPECT_EQ((*reopened)->Get("kept")->id, "kept");
}

TEST_F(JobStoreTest, OpenCreatesMissingParentFolders) {
  const fs::path path = dir_ / "a" / "b" / "jobs.db";
  ASSERT_FALSE(fs::exists(path.parent_path()));
  auto store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  JobRecord job = MakeJob("x");
  ASSERT_TRUE(store->Insert(&job).ok());
  EXPECT_TRUE(fs::is_regular_file(path));
}

TEST_F(JobStoreTest, OpenOfAFileThatIsNotADatabaseIsUnavailable) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "this is a plain text file, not SQLite\n";
  const fs::path path = Write("notes.db", text);
  auto store = JobStore::Open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(store.status().message(), HasSubstr("notes.db"));
}

TEST_F(JobStoreTest, OpenOfAFolderIsUnavailable) {
  auto store = JobStore::Open(dir_.path());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace dim::core

namespace dim::core {
namespace {

TEST_F(JobStoreTest, EventsAreStoredWithTheJobAndLeftOutOfPages) {
  auto store = OpenOrDie(":memory:");
  ASSERT_NE(store, nullptr);
  JobRecord job = MakeJob("job-ev");
  job.events = {{"2026-01-01T00:00:00.000Z", JobEventKind::kSubmitted, "", "by alice"},
                {"2026-01-01T00:00:00.001Z", JobEventKind::kQueued, "", "priority normal"}};
  ASSERT_TRUE(store->Insert(&job).ok());
  job.events.push_back(
      {"2026-01-01T00:00:01.000Z", JobEventKind::kTaskEnded, "node-a", "failed: \xff odd bytes"});
  ASSERT_TRUE(store->Update(job).ok());
  auto got = store->Get("job-ev");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->events.size(), 3u);
  EXPECT_EQ(got->events[0].detail, "by alice");
  EXPECT_EQ(got->events[2].kind, JobEventKind::kTaskEnded);
  EXPECT_EQ(got->events[2].node_id, "node-a");
  EXPECT_THAT(got->events[2].detail, HasSubstr("odd bytes"));
  auto page = store->List(JobQuery{});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->jobs.size(), 1u);
  EXPECT_TRUE(page->jobs[0].events.empty());
}

// A job file of a version before events: opened, it gains the column, and its jobs read
// back with no events.
TEST_F(JobStoreTest, AFileWithoutEventsIsMigrated) {
  const fs::path db = dir_ / "old.db";
  {
    auto store = OpenOrDie(db);
    ASSERT_NE(store, nullptr);
    JobRecord job = MakeJob("old-job");
    ASSERT_TRUE(store->Insert(&job).ok());
  }
  // Made old: the column dropped (SQLite 3.35+).
  {
    auto store = OpenOrDie(db);
    ASSERT_NE(store, nullptr);
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "ALTER TABLE jobs DROP COLUMN events_json; ALTER TABLE jobs DROP COLUMN "
                         "streams_json; DROP TABLE job_rows; DROP TABLE job_row_chunks",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto store = OpenOrDie(db);
  ASSERT_NE(store, nullptr);
  auto got = store->Get("old-job");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(got->events.empty());
  got->events.push_back({"2026-01-01T00:00:00.000Z", JobEventKind::kEnded, "", "COMPLETED"});
  got->output_rows = std::make_shared<const ClientData>(ClientData{{}, 1, 2, {0.5f, -1}});
  got->state = JobState::kCompleted;
  ASSERT_TRUE(store->Update(*got).ok());
  EXPECT_EQ(store->Get("old-job")->events.size(), 1u);
  ASSERT_NE(store->Get("old-job")->output_rows, nullptr);  // the rows' table was added
  got->output_stream = RowStream{.rows = 70000, .width = 1, .chunks = 1, .columns = {}};
  ASSERT_TRUE(store->PutRowChunk("old-job", 1, 0, ClientData{{}, 1, 1, {2}}).ok());
  ASSERT_TRUE(store->Update(*got).ok());
  EXPECT_EQ(store->Get("old-job")->output_stream->rows, 70000);  // and the streams' column
}

// Streamed rows are kept chunk by chunk, beside the job's record of their shape.
TEST_F(JobStoreTest, StreamedRowsAreKeptChunkByChunk) {
  auto store = OpenOrDie(dir_ / "chunks.db");
  ASSERT_NE(store, nullptr);
  JobRecord job = MakeJob("streamed");
  job.pattern = Pattern::kChained;
  job.input_stream = RowStream{.rows = 3, .width = 2, .chunks = 2, .columns = {"a", "b"}};
  ASSERT_TRUE(
      store->PutRowChunk("streamed", 0, 0, ClientData{{"a", "b"}, 2, 2, {1, 2, 3, 4}}).ok());
  ASSERT_TRUE(store->PutRowChunk("streamed", 0, 1, ClientData{{"a", "b"}, 1, 2, {5, 6}}).ok());
  ASSERT_TRUE(store->Insert(&job).ok());
  auto got = store->Get("streamed");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->input_stream.has_value());
  EXPECT_EQ(got->input_stream->rows, 3);
  EXPECT_EQ(got->input_stream->chunks, 2);
  EXPECT_EQ(got->input_stream->columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(got->output_stream.has_value());
  EXPECT_EQ(store->GetRowChunk("streamed", 0, 1)->values, (std::vector<float>{5, 6}));
  EXPECT_EQ(store->GetRowChunk("streamed", 0, 0)->columns, (std::vector<std::string>{"a", "b"}));
  // A chunk written again replaces the first.
  ASSERT_TRUE(store->PutRowChunk("streamed", 0, 1, ClientData{{}, 1, 2, {7, 8}}).ok());
  EXPECT_EQ(store->GetRowChunk("streamed", 0, 1)->values, (std::vector<float>{7, 8}));
  EXPECT_EQ(store->GetRowChunk("streamed", 0, 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetRowChunk("streamed", 1, 0).status().code(), StatusCode::kNotFound);
  // Pages carry the shapes, never the rows.
  auto page = store->List({});
  ASSERT_TRUE(page.ok());
  ASSERT_TRUE(page->jobs.at(0).input_stream.has_value());
  EXPECT_EQ(page->jobs[0].input_stream->rows, 3);
  ASSERT_TRUE(store->DeleteRowChunks("streamed", 0).ok());
  EXPECT_EQ(store->GetRowChunk("streamed", 0, 0).status().code(), StatusCode::kNotFound);
  // Chunks of a stream that never became a job go when the store is next opened as its
  // process's own; a shared open keeps them (another process may be streaming).
  ASSERT_TRUE(store->PutRowChunk("never-a-job", 0, 0, ClientData{{}, 1, 1, {1}}).ok());
  store.reset();
  store = OpenOrDie(dir_ / "chunks.db");
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->GetRowChunk("never-a-job", 0, 0).ok());
  store.reset();
  {
    auto own = JobStore::Open(dir_ / "chunks.db", JobStore::Sharing::kExclusive);
    ASSERT_TRUE(own.ok()) << own.status().ToString();
    EXPECT_EQ((*own)->GetRowChunk("never-a-job", 0, 0).status().code(), StatusCode::kNotFound);
  }
  // Bytes that are not rows read back as DATA_LOSS.
  sqlite3* raw = nullptr;
  store.reset();
  ASSERT_EQ(sqlite3_open((dir_ / "chunks.db").c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw,
                         "INSERT INTO job_row_chunks (job_id, kind, seq, data) "
                         "VALUES ('streamed', 1, 0, x'00010203')",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  store = OpenOrDie(dir_ / "chunks.db");
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetRowChunk("streamed", 1, 0).status().code(), StatusCode::kDataLoss);
}

// A pipeline's rows are kept as BLOBs (not JSON text), bit for bit, column names and all;
// pages leave them out.
TEST_F(JobStoreTest, RowsAreStoredInBinaryAndLeftOutOfPages) {
  auto store = OpenOrDie(dir_ / "rows.db");
  ASSERT_NE(store, nullptr);
  JobRecord job = MakeJob("rows");
  job.input_rows = std::make_shared<const ClientData>(
      ClientData{{"age", "bmi"}, 2, 2, {63, 0.1f, -41, 3.4e38f}});
  ASSERT_TRUE(store->Insert(&job).ok());
  auto got = store->Get("rows");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_NE(got->input_rows, nullptr);
  EXPECT_EQ(got->input_rows->columns, job.input_rows->columns);
  EXPECT_EQ(got->input_rows->values, job.input_rows->values);
  EXPECT_EQ(got->output_rows, nullptr);
  got->output_rows = std::make_shared<const ClientData>(ClientData{{}, 1, 1, {7}});
  ASSERT_TRUE(store->Update(*got).ok());  // still running: rows come with the end
  EXPECT_EQ(store->Get("rows")->output_rows, nullptr);
  got->state = JobState::kCompleted;
  ASSERT_TRUE(store->Update(*got).ok());
  EXPECT_EQ(store->Get("rows")->output_rows->values, std::vector<float>{7});
  EXPECT_NE(store->Get("rows")->input_rows, nullptr);  // kept through the updates
  auto page = store->List({});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->jobs.size(), 1u);
  EXPECT_EQ(page->jobs[0].input_rows, nullptr);
  EXPECT_EQ(page->jobs[0].output_rows, nullptr);
  auto recovered = store->ListInStates({JobState::kCompleted});
  ASSERT_TRUE(recovered.ok());
  ASSERT_EQ(recovered->size(), 1u);
  EXPECT_EQ((*recovered)[0].input_rows, nullptr);  // listed without them
}

TEST(ClientDataCodec, RoundTripsAndRefusesDamagedBytes) {
  const ClientData data{{"x"}, 2, 1, {1.5f, -2}};
  const std::string bytes = EncodeClientData(data);
  auto back = DecodeClientData(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->values, data.values);
  EXPECT_EQ(back->columns, data.columns);
  for (size_t cut : {size_t{0}, size_t{5}, size_t{20}, bytes.size() - 1}) {
    auto damaged = DecodeClientData(std::string_view(bytes).substr(0, cut));
    EXPECT_EQ(damaged.status().code(), StatusCode::kDataLoss) << cut;
  }
  std::string lying = bytes;
  lying[8] = '\x7f';  // rows: far more than the bytes hold
  EXPECT_EQ(DecodeClientData(lying).status().code(), StatusCode::kDataLoss);
}

TEST(JobEvents, AJobKeepsItsFirstAndLatestEventsWithinTheBound) {
  std::vector<JobEvent> events;
  for (size_t i = 0; i < kMaxJobEvents + 10; ++i) {
    AppendJobEvent(events, JobEvent{"t", JobEventKind::kTaskEnded, "n" + std::to_string(i), ""});
  }
  ASSERT_EQ(events.size(), kMaxJobEvents);
  EXPECT_EQ(events.front().node_id, "n0");
  EXPECT_EQ(events.back().node_id, "n" + std::to_string(kMaxJobEvents + 9));
  for (int k = 0; k <= static_cast<int>(JobEventKind::kEnded); ++k) {
    const auto kind = static_cast<JobEventKind>(k);
    EXPECT_EQ(ParseJobEventKind(JobEventName(kind)), kind);
  }
  EXPECT_EQ(ParseJobEventKind("nonsense"), std::nullopt);
}

}  // namespace
}  // namespace dim::core
