// The orchestrator's model store: models pushed by users (`dim model push`), kept by content
// and fetched by daemons on first use.
//
// On disk, in one folder (dim orchestrator serve --model-store DIR):
//   DIR/blobs/<sha256>   each pushed content once, named by its SHA-256 (lowercase hex)
//   DIR/index.json       name -> {sha256, size_bytes, pushed_at}, and every blob's size and
//                        push time; replaced atomically (temp file, fsync, rename)
//   DIR/tmp/             uploads in progress; emptied when the store opens
// Pushing a name again points the name at the new content; the old content stays in
// blobs/ and can still be fetched as "sha256:<hex>" (nothing is ever deleted).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/models/durable_file.h"
#include "core/sha256.h"
#include "core/status.h"

namespace dim::core {

// A model in the store. `name` is empty for content that no name points at any more.
struct StoredModel {
  std::string name;
  std::string sha256;  // 64 lowercase hex digits
  int64_t size_bytes = 0;
  std::string pushed_at;  // ISO 8601 UTC
};

struct ModelStoreOptions {
  // Pushes larger than this are refused (RESOURCE_EXHAUSTED).
  int64_t max_model_bytes = int64_t{1} << 30;
};

// Thread-safe. Several uploads may run at once; the last one committed for a name wins.
class ModelStore final {
 public:
  class Upload;

  // Opens (creating what is missing) the store in `dir`. UNAVAILABLE when the folder cannot
  // be created or the index cannot be read; DATA_LOSS when the index is not a store index.
  // Index entries whose blob is missing are dropped.
  static Result<std::unique_ptr<ModelStore>> Open(const std::filesystem::path& dir,
                                                  const Clock& clock,
                                                  ModelStoreOptions options = {});
  ModelStore(const ModelStore&) = delete;
  ModelStore& operator=(const ModelStore&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  int64_t max_model_bytes() const { return options_.max_model_bytes; }

  // Starts a push of `name`: its bytes go to a file in DIR/tmp as they arrive.
  // INVALID_ARGUMENT for a name that is not a plain name (CheckModelName); UNAVAILABLE when
  // the file cannot be created.
  Result<std::unique_ptr<Upload>> BeginUpload(const std::string& name);

  // The named models, sorted by name.
  std::vector<StoredModel> List() const;
  // The model a job or a daemon names: a plain name, or "sha256:<hex>" (any content ever
  // pushed; its name is the first name that points at it, or empty). INVALID_ARGUMENT for a
  // malformed id; NOT_FOUND naming the id.
  Result<StoredModel> Find(const std::string& model_id) const;
  // Whether Find would succeed.
  bool Has(const std::string& model_id) const { return Find(model_id).ok(); }
  // Where the content with this digest lies (it exists once Find returned it).
  std::filesystem::path BlobPath(const std::string& sha256) const;

 private:
  friend class Upload;
  ModelStore(std::filesystem::path dir, const Clock& clock, ModelStoreOptions options)
      : dir_(std::move(dir)), clock_(clock), options_(options) {}
  Status LoadIndex();
  Status SaveIndexLocked() const;
  Result<StoredModel> Commit(const std::string& name, TempFile file, const std::string& sha256);

  struct Blob {
    int64_t size_bytes = 0;
    std::string pushed_at;
  };
  std::filesystem::path dir_;
  const Clock& clock_;
  ModelStoreOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, StoredModel> names_;  // by name
  std::map<std::string, Blob> blobs_;         // by sha256
};

// One push in progress. Not thread-safe (one stream feeds it). Destroying it without a
// successful Commit leaves the store as it was.
class ModelStore::Upload final {
 public:
  const std::string& name() const { return name_; }
  int64_t size() const { return file_.size(); }

  // Appends the next bytes. RESOURCE_EXHAUSTED once the model would pass the store's
  // max_model_bytes; UNAVAILABLE when the disk write fails.
  [[nodiscard]] Status Append(std::string_view bytes);
  // Checks the content and makes it the name's model: INVALID_ARGUMENT for an empty upload
  // or a file that dim's ONNX loader refuses (its message, naming the node and operator);
  // DATA_LOSS when `expected_sha256` (hex; empty: not checked) is not the content's digest;
  // UNAVAILABLE when the disk fails. Call once.
  Result<StoredModel> Commit(const std::string& expected_sha256 = "");

 private:
  friend class ModelStore;
  Upload(ModelStore& store, std::string name, TempFile file)
      : store_(store), name_(std::move(name)), file_(std::move(file)) {}

  ModelStore& store_;
  std::string name_;
  TempFile file_;
  Sha256Hasher hasher_;
  Status failed_;
};

}  // namespace dim::core
