// The record a daemon keeps of the models it fetched into its --models folder: which files
// it may delete, and when each was last used (for least-recently-used eviction). Files the
// operator put in the folder are not in it and are never deleted.
//
// Kept in DIR/.dim-cache.json, replaced atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace dim::core {

struct CachedModel {
  std::string model_id;  // a plain name, or "sha256:<hex>" when fetched by digest
  std::string file;      // path relative to the folder: "NAME.onnx" or ".sha256/<hex>.onnx"
  std::string sha256;
  int64_t size_bytes = 0;
  std::string fetched_at;  // ISO 8601 UTC
  std::string last_used;   // ISO 8601 UTC
  int64_t use_seq = 0;     // larger: used more recently (orders uses within a millisecond)
};

// Not thread-safe (ModelRepository guards it).
class ModelCacheIndex final {
 public:
  static constexpr const char* kFileName = ".dim-cache.json";

  explicit ModelCacheIndex(std::filesystem::path dir) : dir_(std::move(dir)) {}

  // Reads the record. Entries whose file is missing or has another size are dropped. A
  // missing index is empty; an unreadable one is treated as empty too (and its files are
  // then the operator's, never deleted), with the reason returned as a warning: OK or
  // DATA_LOSS.
  Status Load();
  // Writes the record (temp file + rename; fsynced when `durable`). UNAVAILABLE.
  [[nodiscard]] Status Save(bool durable) const;

  const CachedModel* Find(const std::string& model_id) const;
  const CachedModel* FindBySha256(const std::string& sha256) const;
  // Adds or replaces the entry of model.model_id; its use_seq is set to the newest.
  void Put(CachedModel model);
  void Remove(const std::string& model_id);
  // Marks a use now (`when`: ISO 8601).
  void Touch(const std::string& model_id, const std::string& when);

  int64_t total_bytes() const;
  size_t size() const { return entries_.size(); }
  std::vector<CachedModel> entries() const;
  // The least recently used entry whose id is not in `keep`; nullptr when there is none.
  const CachedModel* LeastRecentlyUsed(const std::set<std::string>& keep) const;

 private:
  std::filesystem::path dir_;
  std::map<std::string, CachedModel> entries_;  // by model_id
  int64_t next_seq_ = 1;
};

}  // namespace dim::core
