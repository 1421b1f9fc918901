#include "core/custody/ledger.h"

#include <cstdio>
#include <future>

#include "core/sha256.h"

namespace dim::core {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS releases ("
    " seq INTEGER PRIMARY KEY, time TEXT NOT NULL, job_id TEXT NOT NULL, task_id TEXT NOT NULL,"
    " user TEXT NOT NULL, pattern TEXT NOT NULL, dataset TEXT NOT NULL,"
    " model_sha256 TEXT NOT NULL, rows INTEGER NOT NULL, epsilon REAL NOT NULL,"
    " release_sha256 TEXT NOT NULL, prev_sha256 TEXT NOT NULL, entry_sha256 TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS releases_dataset ON releases(dataset);";

constexpr const char* kColumns =
    "seq, time, job_id, task_id, user, pattern, dataset, model_sha256, rows, epsilon, "
    "release_sha256, prev_sha256, entry_sha256";

struct Statement {
  sqlite3_stmt* s = nullptr;
  ~Statement() { sqlite3_finalize(s); }
};

std::string Text(sqlite3_stmt* s, int i) {
  const auto* p = sqlite3_column_text(s, i);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

LedgerEntry Row(sqlite3_stmt* s) {
  LedgerEntry e;
  e.seq = sqlite3_column_int64(s, 0);
  e.time = Text(s, 1);
  e.job_id = Text(s, 2);
  e.task_id = Text(s, 3);
  e.user = Text(s, 4);
  e.pattern = Text(s, 5);
  e.dataset = Text(s, 6);
  e.model_sha256 = Text(s, 7);
  e.rows = sqlite3_column_int64(s, 8);
  e.epsilon = sqlite3_column_double(s, 9);
  e.release_sha256 = Text(s, 10);
  e.prev_sha256 = Text(s, 11);
  e.entry_sha256 = Text(s, 12);
  return e;
}

Status Failed(sqlite3* db, const std::string& what) {
  return Status::Unavailable("ledger: " + what + ": " + sqlite3_errmsg(db));
}

}  // namespace

std::string LedgerEntryDigest(const LedgerEntry& e) {
  // Each field with its length, so that no two entries share a digest by moving bytes
  // between neighbouring fields; ε in a form that reads back exactly.
  char epsilon[32];
  std::snprintf(epsilon, sizeof epsilon, "%.17g", e.epsilon);
  Sha256Hasher h;
  for (const std::string& field : {std::to_string(e.seq), e.time, e.job_id, e.task_id, e.user,
                                   e.pattern, e.dataset, e.model_sha256, std::to_string(e.rows),
                                   std::string(epsilon), e.release_sha256, e.prev_sha256}) {
    h.Update(std::to_string(field.size()));
    h.Update(":");
    h.Update(field);
    h.Update(";");
  }
  return h.HexDigest();
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : "cannot open";
    sqlite3_close(db);
    return Status::InvalidArgument("--ledger " + path.string() + ": " + why);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<Ledger> ledger(new Ledger(path, db));
  if (Status s = ledger->Exec("PRAGMA journal_mode=WAL"); !s.ok()) {
    return Status::InvalidArgument("--ledger " + path.string() + ": " + s.message());
  }
  if (Status s = ledger->Exec("PRAGMA synchronous=FULL"); !s.ok()) return s;
  if (Status s = ledger->Exec(kSchema); !s.ok()) {
    return Status::InvalidArgument("--ledger " + path.string() + ": " + s.message());
  }
  ledger->committer_ = std::thread([l = ledger.get()] { l->CommitLoop(); });
  return ledger;
}

Ledger::~Ledger() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (committer_.joinable()) committer_.join();  // writes what was still waiting
  sqlite3_close(db_);
}

Status Ledger::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : "error";
    sqlite3_free(err);
    return Status::Unavailable("ledger: " + why);
  }
  return Status::Ok();
}

void Ledger::AppendAsync(LedgerEntry e, Appended done) {
  {
    std::lock_guard lock(mu_);
    waiting_.push_back(Pending{std::move(e), Status::Ok(), std::move(done)});
  }
  wake_.notify_one();
}

Result<LedgerEntry> Ledger::Append(LedgerEntry e) {
  std::promise<Result<LedgerEntry>> outcome;
  auto future = outcome.get_future();
  AppendAsync(std::move(e), [&](Result<LedgerEntry> r) { outcome.set_value(std::move(r)); });
  return future.get();
}

void Ledger::CommitLoop() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
    if (waiting_.empty()) return;  // stopping, and nothing left to write
    std::vector<Pending> batch;
    batch.swap(waiting_);
    lock.unlock();
    {
      std::lock_guard db(db_mu_);
      CommitBatch(batch);
    }
    for (Pending& p : batch) {
      if (p.status.ok()) {
        p.done(std::move(p.entry));
      } else {
        p.done(p.status);
      }
    }
    lock.lock();
  }
}

void Ledger::CommitBatch(std::vector<Pending>& batch) {
  const auto fail = [&](const Status& s) {
    (void)Exec("ROLLBACK");
    for (Pending& p : batch) p.status = s;
  };
  if (Status s = Exec("BEGIN IMMEDIATE"); !s.ok()) {
    for (Pending& p : batch) p.status = s;
    return;
  }
  int64_t seq = 0;
  std::string prev;
  {
    Statement last;
    sqlite3_prepare_v2(db_, "SELECT seq, entry_sha256 FROM releases ORDER BY seq DESC LIMIT 1", -1,
                       &last.s, nullptr);
    const int rc = sqlite3_step(last.s);
    if (rc == SQLITE_ROW) {
      seq = sqlite3_column_int64(last.s, 0);
      prev = Text(last.s, 1);
    } else if (rc != SQLITE_DONE) {
      return fail(Failed(db_, "reading the last entry"));
    }
  }
  Statement ins;
  sqlite3_prepare_v2(db_,
                     "INSERT INTO releases (seq, time, job_id, task_id, user, pattern, dataset,"
                     " model_sha256, rows, epsilon, release_sha256, prev_sha256, entry_sha256)"
                     " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     -1, &ins.s, nullptr);
  for (Pending& p : batch) {
    LedgerEntry& e = p.entry;
    e.seq = ++seq;
    e.prev_sha256 = prev;
    e.entry_sha256 = LedgerEntryDigest(e);
    prev = e.entry_sha256;
    sqlite3_reset(ins.s);
    sqlite3_bind_int64(ins.s, 1, e.seq);
    int i = 2;
    for (const std::string* t :
         {&e.time, &e.job_id, &e.task_id, &e.user, &e.pattern, &e.dataset, &e.model_sha256}) {
      sqlite3_bind_text(ins.s, i++, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
    }
    sqlite3_bind_int64(ins.s, 9, e.rows);
    sqlite3_bind_double(ins.s, 10, e.epsilon);
    i = 11;
    for (const std::string* t : {&e.release_sha256, &e.prev_sha256, &e.entry_sha256}) {
      sqlite3_bind_text(ins.s, i++, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
    }
    if (sqlite3_step(ins.s) != SQLITE_DONE) return fail(Failed(db_, "appending an entry"));
  }
  if (Status s = Exec("COMMIT"); !s.ok()) return fail(s);
}

Result<double> Ledger::Spent(const std::string& dataset) {
  std::lock_guard lock(db_mu_);
  Statement st;
  sqlite3_prepare_v2(db_, "SELECT COALESCE(SUM(epsilon), 0) FROM releases WHERE dataset = ?", -1,
                     &st.s, nullptr);
  sqlite3_bind_text(st.s, 1, dataset.data(), static_cast<int>(dataset.size()), SQLITE_TRANSIENT);
  if (sqlite3_step(st.s) != SQLITE_ROW) return Failed(db_, "summing ε");
  return sqlite3_column_double(st.s, 0);
}

Result<std::vector<LedgerEntry>> Ledger::List(const std::string& since,
                                              const std::string& dataset) {
  std::lock_guard lock(db_mu_);
  Statement st;
  const std::string sql = std::string("SELECT ") + kColumns +
                          " FROM releases WHERE time >= ? AND (? = '' OR dataset = ?) ORDER BY seq";
  sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr);
  sqlite3_bind_text(st.s, 1, since.data(), static_cast<int>(since.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 2, dataset.data(), static_cast<int>(dataset.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(st.s, 3, dataset.data(), static_cast<int>(dataset.size()), SQLITE_TRANSIENT);
  std::vector<LedgerEntry> out;
  int rc;
  while ((rc = sqlite3_step(st.s)) == SQLITE_ROW) out.push_back(Row(st.s));
  if (rc != SQLITE_DONE) return Failed(db_, "reading entries");
  return out;
}

Result<std::optional<std::pair<int64_t, std::string>>> Ledger::Verify() {
  DIM_ASSIGN_OR_RETURN(std::vector<LedgerEntry> entries, List());
  std::string prev;
  int64_t expected_seq = 1;
  for (const LedgerEntry& e : entries) {
    using Broken = std::optional<std::pair<int64_t, std::string>>;
    if (e.seq != expected_seq) {
      return Broken({e.seq, "entry " + std::to_string(expected_seq) + " is missing"});
    }
    if (e.prev_sha256 != prev) {
      return Broken({e.seq, "its prev_sha256 is not the entry before's sha256"});
    }
    if (LedgerEntryDigest(e) != e.entry_sha256) {
      return Broken({e.seq, "its fields do not match its sha256 (the entry was changed)"});
    }
    prev = e.entry_sha256;
    ++expected_seq;
  }
  return std::optional<std::pair<int64_t, std::string>>();
}

}  // namespace dim::core
