// A node's record of every release (`--ledger PATH`, SQLite): each summary, vote or row set
// that left the daemon, with the sha256 of its exact bytes and of the entry before it, so
// that an entry changed or removed afterwards breaks the chain (`dim daemon ledger verify`).
// The differential-privacy ε spent on a dataset is summed from it: it survives restarts.
// Thread-safe.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace dim::core {

struct LedgerEntry {
  int64_t seq = 0;     // set by Append, from 1
  std::string time{};  // ISO 8601 UTC
  std::string job_id{};
  std::string task_id{};
  std::string user{};
  std::string pattern{};  // collaborative, comparative, chained
  std::string dataset{};
  std::string model_sha256{};    // the models, comma-separated, in order
  int64_t rows = 0;              // rows the release covers
  double epsilon = 0;            // ε spent (0: no differential privacy)
  std::string release_sha256{};  // of the exact bytes released
  std::string prev_sha256{};     // entry_sha256 of the entry before ("" for the first)
  std::string entry_sha256{};    // of this entry's fields and prev_sha256
};

// The digest that chains an entry: sha256 over its fields (seq included) and prev_sha256.
std::string LedgerEntryDigest(const LedgerEntry& e);

class Ledger final {
 public:
  // Opens (or creates) the ledger file. Errors name it.
  static Result<std::unique_ptr<Ledger>> Open(const std::filesystem::path& path);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // Appends `entry` (seq, prev_sha256 and entry_sha256 are set here) durably: `done` is
  // called, on the ledger's own thread, once the entry is on disk (or with UNAVAILABLE when
  // it could not be written). Entries waiting share one transaction (a group commit), so a
  // node's workers never wait on the disk and one fsync covers many releases.
  using Appended = std::function<void(Result<LedgerEntry>)>;
  void AppendAsync(LedgerEntry entry, Appended done);
  // AppendAsync, waiting for its outcome.
  Result<LedgerEntry> Append(LedgerEntry entry);
  // ε spent on `dataset` so far.
  Result<double> Spent(const std::string& dataset);
  // Entries in order, optionally from time `since` (ISO 8601, inclusive) and one dataset.
  Result<std::vector<LedgerEntry>> List(const std::string& since = {},
                                        const std::string& dataset = {});
  // nullopt when every entry's digest and link hold; otherwise the first broken entry's seq
  // and why.
  Result<std::optional<std::pair<int64_t, std::string>>> Verify();

  const std::filesystem::path& path() const { return path_; }

 private:
  Ledger(std::filesystem::path path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  Status Exec(const char* sql);
  struct Pending {
    LedgerEntry entry;
    Status status;
    Appended done;
  };
  // Under db_mu_ (not mu_): writes `batch` in one transaction, setting each one's outcome.
  void CommitBatch(std::vector<Pending>& batch);
  void CommitLoop();

  std::filesystem::path path_;
  sqlite3* db_;
  std::mutex db_mu_;  // the connection
  std::mutex mu_;     // the state below
  std::condition_variable wake_;
  std::vector<Pending> waiting_;
  bool stopping_ = false;
  std::thread committer_;
};

}  // namespace dim::core
