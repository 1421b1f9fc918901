// A pipeline's rows in files: what `dim submit --input-data FILE` reads and `dim result
// --rows-out FILE` writes. A file named *.npy is NumPy's format (a 2-D array of float32 or
// float64, C order); anything else is CSV with a header row. Both are read and written a
// chunk of rows at a time, so that a file of any size goes through in bounded memory.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/client_data.h"
#include "core/status.h"

namespace dim::cli {

// Reads rows from a file in chunks. Errors are INVALID_ARGUMENT naming the file and what is
// wrong ("--input-data x.npy: dtype '<i8': expected '<f4' or '<f8'").
class RowsFileReader {
 public:
  // `file` ("-": CSV on stdin). A CSV file's header names the columns; a .npy file's rows
  // have none. Checks the header (and a .npy file's size against its shape) at once.
  static core::Result<std::unique_ptr<RowsFileReader>> Open(const std::string& file);
  virtual ~RowsFileReader() = default;

  // The next rows, at most max_values numbers (and at least one row); nullopt once every
  // row was read. A file with no rows at all is an error at its first call.
  virtual core::Result<std::optional<core::ClientData>> Next(int64_t max_values) = 0;
  // The file's size in bytes (0 for stdin), to size a deadline.
  virtual int64_t size_bytes() const = 0;
};

// The rows of `file`, at most kMaxClientValues numbers (a file with more is INVALID_ARGUMENT).
core::Result<core::ClientData> ReadRowsFile(const std::string& file);

// Writes rows to a file in chunks (replacing it): .npy as '<f4', or CSV with the rows'
// column names, or output_0, output_1, ... for rows without. UNAVAILABLE when it cannot be
// written.
class RowsFileWriter {
 public:
  // `rows` x `width` rows in all: a .npy header states the shape before the data.
  static core::Result<std::unique_ptr<RowsFileWriter>> Open(
      const std::string& file, int64_t rows, int64_t width,
      const std::vector<std::string>& columns);
  virtual ~RowsFileWriter() = default;
  // The next rows, of the width given.
  virtual core::Status Append(const core::ClientData& rows) = 0;
  // DATA_LOSS when other than the rows announced were appended; UNAVAILABLE on a write error.
  virtual core::Status Close() = 0;
};

// Open, Append and Close, for rows in memory.
core::Status WriteRowsFile(const std::string& file, const core::ClientData& rows);

}  // namespace dim::cli
