// Opening and reading the files dim is pointed at (datasets, models, configs, node lists)
// without trusting what they are: a FIFO, a device or a directory is refused at once, never
// waited on.
#pragma once

#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace dim::core {

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

// Opens `path` for reading. The open itself cannot block (O_NONBLOCK, so a FIFO with no
// writer does not hang it); the file is then checked with fstat to be a regular file, and
// made blocking again for reading. Messages name the file as `shown` (the path when empty):
// NOT_FOUND "<shown>: no such file"; PERMISSION_DENIED "<shown>: permission denied";
// INVALID_ARGUMENT "<shown>: not a regular file (a FIFO)" (or a directory, a device, a
// socket); INTERNAL for any other failure, with the system's reason.
Result<FilePtr> OpenRegularFile(const std::filesystem::path& path, std::string_view shown = {});

// The whole of a regular file (as OpenRegularFile opens it), at most `max_bytes`:
// INVALID_ARGUMENT "<shown>: larger than <max_bytes> bytes" for a longer one (checked on
// its size before reading, and again while reading, should it grow); INTERNAL for a read
// error.
Result<std::string> ReadRegularFile(const std::filesystem::path& path, size_t max_bytes,
                                    std::string_view shown = {});

}  // namespace dim::core
