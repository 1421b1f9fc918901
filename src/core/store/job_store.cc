#include "core/store/job_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <system_error>
#include <unordered_map>

#include "core/text.h"

namespace dim::core {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL,
  pattern INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  config_json TEXT NOT NULL,
  state INTEGER NOT NULL,
  result_json TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  nodes_json TEXT NOT NULL DEFAULT '[]',
  completed_steps INTEGER NOT NULL DEFAULT 0,
  total_steps INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  started_at TEXT NOT NULL DEFAULT '',
  completed_at TEXT NOT NULL DEFAULT '',
  events_json TEXT NOT NULL DEFAULT '[]',
  streams_json TEXT NOT NULL DEFAULT ''
);
-- A pipeline's rows, in binary (EncodeClientData): kind 0 the job's input rows, 1 its output
-- rows. Apart from jobs, so that the updates of a running job do not rewrite them.
CREATE TABLE IF NOT EXISTS job_rows (
  job_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (job_id, kind)
);
-- A job's streamed rows (JobRecord::input_stream, output_stream), chunk by chunk, each
-- chunk as job_rows keeps rows.
CREATE TABLE IF NOT EXISTS job_row_chunks (
  job_id TEXT NOT NULL,
  kind INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (job_id, kind, seq)
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, seq);
CREATE INDEX IF NOT EXISTS jobs_user ON jobs(user_id, seq);
)sql";

constexpr const char* kColumns =
    "seq, id, user_id, pattern, priority, config_json, state, result_json, error, nodes_json, "
    "completed_steps, total_steps, created_at, started_at, completed_at, events_json, "
    "streams_json";
// The same, for a page of List: no result_json and no events, which a page leaves out.
constexpr const char* kListColumns =
    "seq, id, user_id, pattern, priority, config_json, state, '', error, nodes_json, "
    "completed_steps, total_steps, created_at, started_at, completed_at, '[]', streams_json";

// A prepared statement for one use: prepared once per connection and SQL text (parsing
// costs about as much as running these), reset for the next use when this goes.
class Statement final {
 public:
  Statement(sqlite3* db, std::unordered_map<std::string, sqlite3_stmt*>& cache,
            const std::string& sql)
      : db_(db) {
    if (auto it = cache.find(sql); it != cache.end()) {
      stmt_ = it->second;
      rc_ = SQLITE_OK;
      return;
    }
    rc_ = sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
    if (rc_ == SQLITE_OK) cache.emplace(sql, stmt_);
  }
  ~Statement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  Status Error(std::string_view what) const {
    return Status::Unavailable(std::string("job store: ") + std::string(what) + ": " +
                               sqlite3_errmsg(db_));
  }
  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  // Rows as a BLOB (EncodeClientData), NULL when there are none.
  void BindRows(int i, const std::shared_ptr<const ClientData>& rows) {
    if (!rows) {
      sqlite3_bind_null(stmt_, i);
      return;
    }
    std::string bytes = EncodeClientData(*rows);
    sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  }
  void BindBlob(int i, const std::string& bytes) {
    sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_STATIC);
  }
  std::string Blob(int col) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }
  int Step() { return sqlite3_step(stmt_); }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

std::string NodesToJson(const std::vector<NodeTaskRecord>& nodes) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& n : nodes) {
    arr.push_back({{"node_id", n.node_id},
                   {"status", TaskStateName(n.state)},
                   {"error", ErrorText(n.error)},
                   {"started_at", n.started_at},
                   {"completed_at", n.completed_at},
                   {"execution_seconds", n.execution_seconds},
                   {"rows_done", n.rows_done},
                   {"rows_total", n.rows_total}});
  }
  return DumpJson(arr);
}

std::vector<NodeTaskRecord> NodesFromJson(const std::string& text) {
  std::vector<NodeTaskRecord> out;
  auto arr = ParseUntrustedJson(text);
  if (!arr.is_array()) return out;
  for (const auto& n : arr) {
    if (!n.is_object()) continue;
    NodeTaskRecord r;
    r.node_id = n.value("node_id", "");
    r.state = ParseTaskState(n.value("status", "")).value_or(TaskState::kPending);
    r.error = ParseStatusText(n.value("error", ""));
    r.started_at = n.value("started_at", "");
    r.completed_at = n.value("completed_at", "");
    r.execution_seconds = n.value("execution_seconds", 0.0);
    r.rows_done = n.value("rows_done", int64_t{0});
    r.rows_total = n.value("rows_total", int64_t{0});
    out.push_back(std::move(r));
  }
  return out;
}

std::string EventsToJson(const std::vector<JobEvent>& events) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& e : events) {
    nlohmann::json item = {{"time", e.time}, {"event", JobEventName(e.kind)}};
    if (!e.node_id.empty()) item["node_id"] = e.node_id;
    if (!e.detail.empty()) item["detail"] = e.detail;
    arr.push_back(std::move(item));
  }
  return DumpJson(arr);
}

std::vector<JobEvent> EventsFromJson(const std::string& text) {
  std::vector<JobEvent> out;
  auto arr = ParseUntrustedJson(text);
  if (!arr.is_array()) return out;
  for (const auto& e : arr) {
    if (!e.is_object()) continue;
    auto kind = ParseJobEventKind(e.value("event", ""));
    if (!kind) continue;  // written by a newer version: left out
    out.push_back(
        JobEvent{e.value("time", ""), *kind, e.value("node_id", ""), e.value("detail", "")});
  }
  return out;
}

// {"input": RowStream, "output": RowStream}, each only when set; "" when neither is.
std::string StreamsToJson(const JobRecord& job) {
  if (!job.input_stream && !job.output_stream) return "";
  nlohmann::json out = nlohmann::json::object();
  if (job.input_stream) out["input"] = RowStreamToJson(*job.input_stream);
  if (job.output_stream) out["output"] = RowStreamToJson(*job.output_stream);
  return DumpJson(out);
}

void StreamsFromJson(const std::string& text, JobRecord& job) {
  if (text.empty()) return;
  auto doc = ParseUntrustedJson(text);
  if (!doc.is_object()) return;
  if (auto it = doc.find("input"); it != doc.end()) job.input_stream = RowStreamFromJson(*it);
  if (auto it = doc.find("output"); it != doc.end()) job.output_stream = RowStreamFromJson(*it);
}

JobRecord ReadRow(const Statement& s) {
  JobRecord r;
  r.seq = s.Int(0);
  r.id = s.Text(1);
  r.user_id = s.Text(2);
  r.pattern = static_cast<Pattern>(s.Int(3));
  r.priority = static_cast<Priority>(s.Int(4));
  r.config_json = s.Text(5);
  r.state = static_cast<JobState>(s.Int(6));
  r.result_json = s.Text(7);
  r.error = s.Text(8);
  r.nodes = NodesFromJson(s.Text(9));
  r.completed_steps = static_cast<int>(s.Int(10));
  r.total_steps = static_cast<int>(s.Int(11));
  r.created_at = s.Text(12);
  r.started_at = s.Text(13);
  r.completed_at = s.Text(14);
  r.events = EventsFromJson(s.Text(15));
  StreamsFromJson(s.Text(16), r);
  return r;
}

}  // namespace

Result<std::unique_ptr<JobStore>> JobStore::Open(const std::filesystem::path& path,
                                                 Sharing sharing) {
  if (path != ":memory:" && path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return Status::Unavailable("job store: cannot create folder " + path.parent_path().string() +
                                 ": " + ec.message());
    }
  }
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Unavailable("job store: cannot open " + path.string() + ": " + msg);
  }
  std::unique_ptr<JobStore> store(new JobStore(db));
  if (sharing == Sharing::kExclusive && path != ":memory:") {
    // Set before WAL, which then keeps its index in this process's memory rather than in a
    // shared file. The lock is taken by the first write and kept until the file is closed:
    // take it now, so that a second process fails here, not at its first job.
    sqlite3_busy_timeout(db, 1000);
    Status locked = store->Exec("PRAGMA locking_mode=EXCLUSIVE");
    if (locked.ok()) locked = store->Exec("PRAGMA journal_mode=WAL");
    if (locked.ok()) locked = store->Exec("BEGIN IMMEDIATE");
    if (locked.ok()) locked = store->Exec("COMMIT");
    if (!locked.ok()) {
      if ((sqlite3_errcode(db) & 0xff) == SQLITE_BUSY) {
        return Status::Unavailable("job store: " + path.string() +
                                   " is in use by another process (another orchestrator on "
                                   "the same --db?)");
      }
      return locked.WithPrefix(path.string());
    }
  }
  sqlite3_busy_timeout(db, 5000);
  if (path != ":memory:") {
    DIM_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL").WithPrefix(path.string()));
  }
  // NORMAL: in WAL mode a commit is durable against a crash of the process without an
  // fdatasync of its own (see the header).
  DIM_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=NORMAL").WithPrefix(path.string()));
  DIM_RETURN_IF_ERROR(store->Exec(kSchema).WithPrefix(path.string()));
  DIM_RETURN_IF_ERROR(store->Migrate().WithPrefix(path.string()));
  if (sharing == Sharing::kExclusive) {
    // Rows of streamed submits that never became jobs (the process died mid-stream). Only a
    // store of its own can tell: with a shared one, another process may be streaming now.
    DIM_RETURN_IF_ERROR(
        store->Exec("DELETE FROM job_row_chunks WHERE job_id NOT IN (SELECT id FROM jobs)")
            .WithPrefix(path.string()));
  }
  return store;
}

JobStore::JobStore(sqlite3* db) : db_(db) {}

Status JobStore::Migrate() {
  // A job file written before jobs kept their events has no events_json: added, each old job
  // with an empty timeline. (Tables added since, such as job_rows, come with kSchema.)
  std::set<std::string> have;
  {
    Statement s(db_, statements_, "SELECT name FROM pragma_table_info('jobs')");
    if (!s.ok()) return s.Error("schema");
    while (s.Step() == SQLITE_ROW) have.insert(s.Text(0));
  }
  if (!have.contains("events_json")) {
    DIM_RETURN_IF_ERROR(Exec("ALTER TABLE jobs ADD COLUMN events_json TEXT NOT NULL DEFAULT '[]'"));
  }
  if (!have.contains("streams_json")) {
    DIM_RETURN_IF_ERROR(Exec("ALTER TABLE jobs ADD COLUMN streams_json TEXT NOT NULL DEFAULT ''"));
  }
  return Status::Ok();
}

JobStore::~JobStore() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status JobStore::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::Unavailable("job store: " + msg);
  }
  return Status::Ok();
}

Status JobStore::Step(const std::string& sql) {
  Statement s(db_, statements_, sql);
  if (!s.ok() || s.Step() != SQLITE_DONE) return s.Error(sql);
  return Status::Ok();
}

struct JobStore::PendingWrite {
  explicit PendingWrite(const std::function<Status()>* f) : apply(f) {}
  const std::function<Status()>* apply;
  Status status = Status::Ok();
  bool done = false;
  std::condition_variable cv;
};

Status JobStore::Write(const std::function<Status()>& apply) {
  // Bounds a transaction, so that reads of the connection wait for at most this many writes.
  constexpr size_t kMaxGroup = 64;
  PendingWrite self(&apply);
  std::unique_lock queue(write_mu_);
  writers_.push_back(&self);
  self.cv.wait(queue, [&] { return self.done || writers_.front() == &self; });
  if (self.done) return self.status;

  // This writer leads: it commits itself and the writes queued behind it.
  const size_t count = std::min(writers_.size(), kMaxGroup);
  std::vector<PendingWrite*> group(writers_.begin(), writers_.begin() + static_cast<long>(count));
  queue.unlock();
  {
    std::lock_guard lock(mu_);
    Status begin = Step("BEGIN IMMEDIATE");
    if (!begin.ok()) {
      for (PendingWrite* w : group) w->status = begin;
    } else {
      // A statement that fails on a constraint (a taken id) is undone alone and the
      // transaction goes on; one that ends the transaction (an I/O error, a full disk)
      // fails the whole group.
      Status ended = Status::Ok();
      for (PendingWrite* w : group) {
        w->status = (*w->apply)();
        if (sqlite3_get_autocommit(db_) != 0) {
          ended = w->status.ok() ? Status::Unavailable("job store: the transaction was rolled back")
                                 : w->status;
          break;
        }
      }
      Status commit = ended.ok() ? Step("COMMIT") : ended;
      if (!commit.ok()) {
        if (sqlite3_get_autocommit(db_) == 0) (void)Step("ROLLBACK");
        for (PendingWrite* w : group) w->status = commit;
      }
    }
  }
  queue.lock();
  for (PendingWrite* w : group) {
    writers_.pop_front();
    w->done = true;
    if (w != &self) w->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();
  return self.status;
}

Status JobStore::Insert(JobRecord* record) {
  return Write([&]() -> Status {
    Statement s(db_, statements_,
                "INSERT INTO jobs (id, user_id, pattern, priority, config_json, state, "
                "result_json, error, nodes_json, completed_steps, total_steps, created_at, "
                "started_at, completed_at, events_json, streams_json) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!s.ok()) return s.Error("insert");
    s.Bind(1, record->id);
    s.Bind(2, record->user_id);
    s.Bind(3, static_cast<int64_t>(record->pattern));
    s.Bind(4, static_cast<int64_t>(record->priority));
    s.Bind(5, record->config_json);
    s.Bind(6, static_cast<int64_t>(record->state));
    s.Bind(7, record->result_json);
    s.Bind(8, record->error);
    s.Bind(9, NodesToJson(record->nodes));
    s.Bind(10, static_cast<int64_t>(record->completed_steps));
    s.Bind(11, static_cast<int64_t>(record->total_steps));
    s.Bind(12, record->created_at);
    s.Bind(13, record->started_at);
    s.Bind(14, record->completed_at);
    s.Bind(15, EventsToJson(record->events));
    s.Bind(16, StreamsToJson(*record));
    const int rc = s.Step();
    if (rc == SQLITE_CONSTRAINT) {
      return Status(StatusCode::kAlreadyExists, "job '" + record->id + "' already exists");
    }
    if (rc != SQLITE_DONE) return s.Error("insert");
    record->seq = sqlite3_last_insert_rowid(db_);
    DIM_RETURN_IF_ERROR(PutRowsLocked(record->id, 0, record->input_rows));
    return PutRowsLocked(record->id, 1, record->output_rows);
  });
}

Status JobStore::Update(const JobRecord& record) {
  return Write([&] { return UpdateLocked(record, /*unless_ended=*/false); });
}

Status JobStore::UpdateUnlessEnded(const JobRecord& record) {
  return Write([&] { return UpdateLocked(record, /*unless_ended=*/true); });
}

Status JobStore::UpdateLocked(const JobRecord& record, bool unless_ended) {
  std::string sql =
      "UPDATE jobs SET state=?, result_json=?, error=?, nodes_json=?, "
      "completed_steps=?, total_steps=?, started_at=?, completed_at=?, priority=?, "
      "events_json=?, streams_json=? WHERE id=?";
  static_assert(static_cast<int>(JobState::kCompleted) == 3 &&
                static_cast<int>(JobState::kFailed) == 4 &&
                static_cast<int>(JobState::kCancelled) == 5);
  if (unless_ended) sql += " AND state NOT IN (3, 4, 5)";
  Statement s(db_, statements_, sql);
  if (!s.ok()) return s.Error("update");
  s.Bind(1, static_cast<int64_t>(record.state));
  s.Bind(2, record.result_json);
  s.Bind(3, record.error);
  s.Bind(4, NodesToJson(record.nodes));
  s.Bind(5, static_cast<int64_t>(record.completed_steps));
  s.Bind(6, static_cast<int64_t>(record.total_steps));
  s.Bind(7, record.started_at);
  s.Bind(8, record.completed_at);
  s.Bind(9, static_cast<int64_t>(record.priority));
  s.Bind(10, EventsToJson(record.events));
  s.Bind(11, StreamsToJson(record));
  s.Bind(12, record.id);
  if (s.Step() != SQLITE_DONE) return s.Error("update");
  if (sqlite3_changes(db_) > 0) {
    // Output rows come with the job's end, written once then.
    return IsTerminal(record.state) ? PutRowsLocked(record.id, 1, record.output_rows)
                                    : Status::Ok();
  }
  if (unless_ended) {
    Statement q(db_, statements_, "SELECT state FROM jobs WHERE id=?");
    if (!q.ok()) return q.Error("update");
    q.Bind(1, record.id);
    if (q.Step() == SQLITE_ROW) {
      return Status::FailedPrecondition("job '" + record.id + "' already ended (" +
                                        std::string(JobStateName(static_cast<JobState>(q.Int(0)))) +
                                        ")");
    }
  }
  return Status::NotFound("job '" + Snippet(record.id) + "' not found");
}

Result<JobRecord> JobStore::Get(const std::string& id) {
  std::lock_guard lock(mu_);
  Statement s(db_, statements_, std::string("SELECT ") + kColumns + " FROM jobs WHERE id=?");
  if (!s.ok()) return s.Error("get");
  s.Bind(1, id);
  const int rc = s.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("job '" + Snippet(id) + "' not found");
  if (rc != SQLITE_ROW) return s.Error("get");
  JobRecord job = ReadRow(s);
  Statement rows(db_, statements_, "SELECT kind, data FROM job_rows WHERE job_id=?");
  if (!rows.ok()) return rows.Error("get");
  rows.Bind(1, id);
  int step;
  while ((step = rows.Step()) == SQLITE_ROW) {
    // Rows that do not read back (a damaged file) are left out, not made up: a pending job
    // then fails on its config, a completed one shows its document without them.
    auto decoded = DecodeClientData(rows.Blob(1));
    if (!decoded.ok()) continue;
    (rows.Int(0) == 0 ? job.input_rows : job.output_rows) =
        std::make_shared<const ClientData>(*std::move(decoded));
  }
  if (step != SQLITE_DONE) return rows.Error("get");
  return job;
}

Status JobStore::PutRowsLocked(const std::string& id, int kind,
                               const std::shared_ptr<const ClientData>& rows) {
  if (!rows) return Status::Ok();
  Statement s(db_, statements_,
              "INSERT OR REPLACE INTO job_rows (job_id, kind, data) VALUES (?,?,?)");
  if (!s.ok()) return s.Error("rows");
  s.Bind(1, id);
  s.Bind(2, static_cast<int64_t>(kind));
  s.BindRows(3, rows);
  if (s.Step() != SQLITE_DONE) return s.Error("rows");
  return Status::Ok();
}

Status JobStore::PutRowChunk(const std::string& id, int kind, int64_t seq,
                             const ClientData& chunk) {
  const std::string bytes = EncodeClientData(chunk);
  return Write([&]() -> Status {
    Statement s(db_, statements_,
                "INSERT OR REPLACE INTO job_row_chunks (job_id, kind, seq, data) VALUES (?,?,?,?)");
    if (!s.ok()) return s.Error("rows");
    s.Bind(1, id);
    s.Bind(2, static_cast<int64_t>(kind));
    s.Bind(3, seq);
    s.BindBlob(4, bytes);
    if (s.Step() != SQLITE_DONE) return s.Error("rows");
    return Status::Ok();
  });
}

Result<ClientData> JobStore::GetRowChunk(const std::string& id, int kind, int64_t seq) {
  std::string bytes;
  {
    std::lock_guard lock(mu_);
    Statement s(db_, statements_,
                "SELECT data FROM job_row_chunks WHERE job_id=? AND kind=? AND seq=?");
    if (!s.ok()) return s.Error("rows");
    s.Bind(1, id);
    s.Bind(2, static_cast<int64_t>(kind));
    s.Bind(3, seq);
    const int rc = s.Step();
    if (rc == SQLITE_DONE) {
      return Status::NotFound("job '" + Snippet(id) + "' has no " +
                              (kind == 0 ? "input" : "output") + " rows chunk " +
                              std::to_string(seq));
    }
    if (rc != SQLITE_ROW) return s.Error("rows");
    bytes = s.Blob(0);
  }
  // Decoded outside the lock: other jobs' reads and writes need not wait for it.
  return DecodeClientData(bytes);
}

Status JobStore::DeleteRowChunks(const std::string& id, int kind) {
  return Write([&]() -> Status {
    Statement s(db_, statements_, "DELETE FROM job_row_chunks WHERE job_id=? AND kind=?");
    if (!s.ok()) return s.Error("rows");
    s.Bind(1, id);
    s.Bind(2, static_cast<int64_t>(kind));
    if (s.Step() != SQLITE_DONE) return s.Error("rows");
    return Status::Ok();
  });
}

Result<JobPage> JobStore::List(const JobQuery& query) {
  if (query.limit < 1 || query.limit > 1000) {
    return Status::InvalidArgument("limit must be between 1 and 1000, got " +
                                   std::to_string(query.limit));
  }
  if (query.offset < 0) {
    return Status::InvalidArgument("offset must not be negative, got " +
                                   std::to_string(query.offset));
  }
  // No "WHERE 1=1": SQLite answers a bare COUNT(*) from the smallest index, and a
  // condition that is always true makes it scan the table instead.
  std::string where;
  if (!query.user_id.empty()) where += " WHERE user_id=?1";
  if (query.state != JobState::kUnspecified) {
    where += where.empty() ? " WHERE state=?2" : " AND state=?2";
  }

  std::lock_guard lock(mu_);
  JobPage page;
  {
    Statement s(db_, statements_, "SELECT COUNT(*) FROM jobs" + where);
    if (!s.ok()) return s.Error("count");
    if (!query.user_id.empty()) s.Bind(1, query.user_id);
    if (query.state != JobState::kUnspecified) s.Bind(2, static_cast<int64_t>(query.state));
    if (s.Step() != SQLITE_ROW) return s.Error("count");
    page.total = s.Int(0);
  }
  Statement s(db_, statements_,
              std::string("SELECT ") + kListColumns + " FROM jobs" + where +
                  " ORDER BY seq DESC LIMIT ?3 OFFSET ?4");
  if (!s.ok()) return s.Error("list");
  if (!query.user_id.empty()) s.Bind(1, query.user_id);
  if (query.state != JobState::kUnspecified) s.Bind(2, static_cast<int64_t>(query.state));
  s.Bind(3, static_cast<int64_t>(query.limit));
  s.Bind(4, static_cast<int64_t>(query.offset));
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) page.jobs.push_back(ReadRow(s));
  if (rc != SQLITE_DONE) return s.Error("list");
  return page;
}

Result<std::vector<JobRecord>> JobStore::ListInStates(const std::vector<JobState>& states) {
  std::string in;
  for (JobState st : states) {
    if (!in.empty()) in += ",";
    in += std::to_string(static_cast<int>(st));
  }
  std::lock_guard lock(mu_);
  Statement s(db_, statements_,
              std::string("SELECT ") + kColumns + " FROM jobs WHERE state IN (" + in +
                  ") ORDER BY seq ASC");
  if (!s.ok()) return s.Error("recover");
  std::vector<JobRecord> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRow(s));
  if (rc != SQLITE_DONE) return s.Error("recover");
  return out;
}

}  // namespace dim::core
