// Durable job records in SQLite. Every state change is written before it is acknowledged.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/job_types.h"
#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace dim::core {

struct JobQuery {
  std::string user_id;                       // empty: every user
  JobState state = JobState::kUnspecified;   // unspecified: every state
  int limit = 20;                            // 1..1000
  int offset = 0;
};

struct JobPage {
  std::vector<JobRecord> jobs;  // newest first
  int64_t total = 0;            // matching jobs, before limit/offset
};

// Thread-safe: one connection guarded by a mutex. Writes made at the same time from several
// threads are committed together, in one transaction (each still gets its own result, and
// returns only once its transaction is committed): under load a commit's cost is shared.
// WAL journal with synchronous=NORMAL: a
// committed write survives a crash of the process (kill -9), which is what the orchestrator
// must survive; an OS crash or power loss may lose the last commits (the WAL is synced at
// checkpoints, not at every commit), but never corrupts the database. FULL would sync every
// commit, at 1.5–4 ms each on ordinary disks.
class JobStore final {
 public:
  // Who may use the file while it is open.
  enum class Sharing {
    kShared,     // other processes too (local mode: each `dim --local` command opens it)
    kExclusive,  // this process alone, until it closes the file (the orchestrator): cheaper
                 // commits, and a second process on the same file is refused
  };
  // Opens or creates the database (parent folders too) and its schema. ":memory:" works.
  // UNAVAILABLE when the file cannot be opened, is not a dim database, or (kExclusive) is
  // open in another process.
  static Result<std::unique_ptr<JobStore>> Open(const std::filesystem::path& path,
                                                Sharing sharing = Sharing::kShared);
  ~JobStore();
  JobStore(const JobStore&) = delete;
  JobStore& operator=(const JobStore&) = delete;

  // Inserts a new job; sets record->seq. ALREADY_EXISTS when the id is taken.
  [[nodiscard]] Status Insert(JobRecord* record);
  // Replaces every mutable field of an existing job. NOT_FOUND when absent.
  [[nodiscard]] Status Update(const JobRecord& record);
  // Update, unless the stored job already ended (COMPLETED, FAILED or CANCELLED): then it is
  // left as it is and FAILED_PRECONDITION is returned, in one step, so that an end stored by
  // someone else (a cancel, another process sharing the file) is never overwritten.
  [[nodiscard]] Status UpdateUnlessEnded(const JobRecord& record);
  // NOT_FOUND naming the id when absent.
  Result<JobRecord> Get(const std::string& id);
  // A page of jobs. The page is an index: its records carry no result_json (which can be
  // large; Get has it) and no events. INVALID_ARGUMENT when limit or offset is out of range.
  Result<JobPage> List(const JobQuery& query);
  // A job's streamed rows (JobRecord::input_stream, output_stream), one chunk at a time:
  // kind 0 its input, 1 its output; chunk `seq` replaces any chunk of that number. Each write
  // is committed before it returns. GetRowChunk: NOT_FOUND when there is no such chunk,
  // DATA_LOSS when its bytes do not read back.
  [[nodiscard]] Status PutRowChunk(const std::string& id, int kind, int64_t seq,
                                   const ClientData& chunk);
  Result<ClientData> GetRowChunk(const std::string& id, int kind, int64_t seq);
  [[nodiscard]] Status DeleteRowChunks(const std::string& id, int kind);
  // Jobs in these states, oldest first (used to recover after a restart), without their
  // rows (Get has them).
  Result<std::vector<JobRecord>> ListInStates(const std::vector<JobState>& states);

 private:
  // One write waiting for its transaction.
  struct PendingWrite;

  explicit JobStore(sqlite3* db);
  Status Exec(const char* sql);
  // Brings an older job file's schema up to date.
  Status Migrate();
  // Runs one statement without results, prepared once (under mu_).
  Status Step(const std::string& sql);
  // Runs `apply` (statements on the connection, under mu_) in a transaction shared with the
  // writes queued meanwhile, and returns its status once that transaction is committed (or
  // the commit's error). The first writer in the queue commits for the others, as leveldb's
  // DBImpl::Write does.
  Status Write(const std::function<Status()>& apply);
  Status UpdateLocked(const JobRecord& record, bool unless_ended);
  // Stores a job's rows of `kind` (0 input, 1 output) in job_rows; nothing when null.
  Status PutRowsLocked(const std::string& id, int kind,
                       const std::shared_ptr<const ClientData>& rows);

  std::mutex write_mu_;                  // guards writers_
  std::deque<PendingWrite*> writers_;    // the first one commits for the others
  std::mutex mu_;                        // guards the connection
  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> statements_;  // prepared once, by SQL text
};

}  // namespace dim::core
