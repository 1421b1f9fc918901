// The models a node can run: DIR/NAME.onnx serves model id NAME. With a fetcher (a daemon
// started with --orchestrator), DIR is also a cache: a model the folder lacks is fetched on
// first use, checked against the sha256 the source announced, and kept; fetched models
// past ModelCacheOptions::max_bytes are evicted, least recently used first.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/infer/device.h"
#include "core/infer/model.h"
#include "core/models/model_cache_index.h"
#include "core/models/model_fetcher.h"
#include "core/status.h"

namespace dim::core {

// What happened in the cache, for the daemon's log.
struct ModelCacheEvent {
  enum class Kind {
    kHit,          // a fetched model was served from the folder
    kFetched,      // a model was fetched, checked and kept
    kFetchFailed,  // a fetch failed (status says why); nothing was kept
    kEvicted,      // a fetched model was deleted to keep within max_bytes
    kStale,        // a fetched name now names other content at the source: fetched again
    kWarning,      // something the operator should know (status), e.g. an unreadable record
  };
  Kind kind = Kind::kHit;
  std::string model_id;
  std::string sha256;
  int64_t size_bytes = 0;
  double seconds = 0;  // kFetched: how long the fetch took
  Status status;       // kFetchFailed, kWarning
};

struct ModelCacheOptions {
  // Where missing models come from; null: only the folder's own files (no cache). Not owned;
  // it must outlive the repository.
  ModelFetcher* fetcher = nullptr;
  // Fetched models are kept within this many bytes (0: no limit); the least recently used
  // go first. Files the operator put in the folder neither count nor are ever deleted. A
  // single model larger than the limit is not fetched (RESOURCE_EXHAUSTED).
  int64_t max_bytes = 0;
  // Called with the repository's lock held: it must not call back into the repository.
  std::function<void(const ModelCacheEvent&)> on_event;
  // For last-use times; null: the system clock.
  const Clock* clock = nullptr;
};

// The figures GetHealth and GetStats report.
struct ModelCacheStats {
  int64_t models = 0;          // ids List() gives
  int64_t total_bytes = 0;     // the size of their files
  int64_t fetched_models = 0;  // of those, fetched (and evictable)
  int64_t fetched_bytes = 0;
  int64_t max_bytes = 0;  // 0: no limit
  int64_t hits = 0;       // Get served from the folder
  int64_t misses = 0;     // Get had to fetch (or found nothing to fetch)
  int64_t evictions = 0;
  int64_t fetch_failures = 0;
};

// Thread-safe. Loaded models are kept (keyed by file and modification time) so a model is
// parsed once, not once per task. Every model is loaded for one device. A model evicted or
// replaced while a task runs it stays in memory until the task lets it go.
class ModelRepository final {
 public:
  // Reads the cache's record of fetched models (DIR/.dim-cache.json), removes fetches a
  // previous process left half done, and evicts down to options.max_bytes.
  explicit ModelRepository(std::filesystem::path dir, Device device = Device::kCpu,
                           ModelCacheOptions options = {});

  const std::filesystem::path& dir() const { return dir_; }
  Device device() const { return device_; }
  bool can_fetch() const { return options_.fetcher != nullptr; }

  // The model `model_id` names: a plain name (DIR/NAME.onnx) or "sha256:<hex>" (a file of
  // the folder with that content). Blocks while a missing model is fetched (concurrent
  // calls for the same model wait for one fetch); a fetched name is checked with the
  // source on each use and fetched again when the source's content changed (when the source
  // cannot be reached, the copy here is used).
  // Errors: INVALID_ARGUMENT for an id that is neither (CheckModelId) or a model that fails
  // to load (the loader's message); NOT_FOUND naming the id and the folder (no fetcher),
  // or the source's NOT_FOUND; DATA_LOSS when fetched bytes do not match the announced
  // sha256 or size ("... has sha256 <got>, expected <announced>"); RESOURCE_EXHAUSTED for
  // a model larger than max_bytes; UNAVAILABLE / DEADLINE_EXCEEDED when the fetch fails;
  // the loader's FAILED_PRECONDITION or RESOURCE_EXHAUSTED when the device cannot take it.
  Result<std::shared_ptr<const Model>> Get(const std::string& model_id);

  // What a task's submission checks, without fetching (it runs on a request thread): OK when
  // the model is in the folder and loads, or is missing but can be fetched (then Get fetches
  // it, on the thread that runs the task); otherwise Get's error.
  [[nodiscard]] Status CheckAvailable(const std::string& model_id);

  // The sha256 (hex) of the model `model_id` names, as it is here now (hashed once per
  // change of its file); NOT_FOUND when it is not here (yet). Never fetches.
  Result<std::string> Sha256(const std::string& model_id);

  // Ids of the *.onnx files in the folder, sorted, then "sha256:<hex>" of models fetched by
  // digest.
  std::vector<std::string> List() const;

  ModelCacheStats Stats() const;

 private:
  struct Located {
    std::filesystem::path path;
    std::string cache_id;  // the cache entry it belongs to, empty for the operator's files
  };
  struct Loaded {
    std::filesystem::file_time_type mtime;
    std::shared_ptr<const Model> model;
  };
  struct Flight {
    bool done = false;
    std::optional<Result<Located>> result;
  };
  struct Digest {
    std::filesystem::file_time_type mtime;
    uintmax_t size = 0;
    std::string sha256;
  };

  // Finds the model's file, fetching it when `fetch` and it is missing (or stale).
  Result<Located> Locate(const std::string& model_id, bool fetch);
  // An operator file of the folder whose content has this digest (hashes each file once
  // per modification).
  std::optional<std::filesystem::path> FindFileByDigest(const std::string& sha256);
  // The digest of a file, memoised by its modification time and size.
  std::optional<std::string> DigestOf(const std::filesystem::path& path);
  // One fetch per id at a time: later callers wait for the first one's result.
  Result<Located> FetchOnce(const std::string& model_id);
  Result<Located> FetchNow(const std::string& model_id);
  Result<std::shared_ptr<const Model>> Load(const std::filesystem::path& path);
  // Deletes least recently used fetched models (not in `keep`, nor being fetched) until
  // the fetched bytes are within max_bytes. Under mu_.
  void EvictLocked(const std::set<std::string>& keep);
  void SaveIndexLocked(bool durable);
  void EmitLocked(ModelCacheEvent event) const;
  std::string NowIso() const;

  std::filesystem::path dir_;
  Device device_;
  ModelCacheOptions options_;
  SystemClock system_clock_;

  mutable std::mutex mu_;
  std::condition_variable fetched_cv_;
  std::map<std::string, Loaded> loaded_;  // by file path
  ModelCacheIndex index_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;  // by model id
  std::map<std::string, Digest> digests_;                   // by file path
  int64_t hits_ = 0, misses_ = 0, evictions_ = 0, fetch_failures_ = 0;
};

}  // namespace dim::core
