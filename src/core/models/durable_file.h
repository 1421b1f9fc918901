// Files written so that a reader sees the old content or the new, never a torn mix, and
// (when asked) so that the new content survives a crash once the call returns.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace dim::core {

// Writes `content` to a temporary file beside `path` and renames it over `path`. With
// `durable`, the file and its folder are fsynced. UNAVAILABLE naming the path on failure;
// nothing is left behind then.
[[nodiscard]] Status WriteFileAtomically(const std::filesystem::path& path,
                                         std::string_view content, bool durable);

// fsyncs a folder, so that renames into it survive a crash. UNAVAILABLE on failure.
[[nodiscard]] Status SyncDirectory(const std::filesystem::path& dir);

// A file being written that is renamed into place when done and removed otherwise (RAII).
// Not thread-safe.
class TempFile final {
 public:
  // Creates a new, empty file in `dir` (created if missing) named "<prefix><unique>.tmp".
  // UNAVAILABLE when it cannot be created.
  static Result<TempFile> Create(const std::filesystem::path& dir, std::string_view prefix);
  TempFile(TempFile&& other) noexcept;
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile();  // closes and removes the file unless it was renamed into place

  const std::filesystem::path& path() const { return path_; }
  int64_t size() const { return size_; }

  // Appends bytes. UNAVAILABLE when the write fails.
  [[nodiscard]] Status Append(std::string_view bytes);
  // Flushes and fsyncs the content, and closes the file (no Append after). UNAVAILABLE.
  [[nodiscard]] Status Finish();
  // Renames the file (finished first if need be) to `target`, replacing it; with `durable`,
  // the content and target's folder are fsynced. The file then belongs to the caller.
  // UNAVAILABLE.
  [[nodiscard]] Status RenameTo(const std::filesystem::path& target, bool durable = true);

 private:
  TempFile(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}

  std::filesystem::path path_;
  int fd_ = -1;
  int64_t size_ = 0;
  bool kept_ = false;
};

}  // namespace dim::core
