// Streams a CSV dataset in batches: a header row of column names, then numeric rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/input_limits.h"
#include "core/matrix.h"
#include "core/status.h"

namespace dim::core {

// Memory stays bounded by the batch size, whatever the file's length: the file is read in
// fixed-size chunks (1 MiB; a chunk grows only to hold a longer line).
// Format: comma-separated; cells may have surrounding spaces or tabs; lines end in "\n" or
// "\r\n"; the last line may lack its newline; empty lines are allowed only at the end; a
// UTF-8 byte order mark before the header is skipped. Every cell of every row is checked,
// selected or not, so a file reads the same whatever the selection.
// Error messages name the file by its file name only (never its directory): they may be
// sent to other nodes, e.g. "data.csv line 7, column 'bmi': not a number: 'abc'".
// Not thread-safe: one reader per task.
// The files Open takes: regular files only (a FIFO, device or directory is refused at once,
// never waited on), or also a named pipe, which is then read as it is written.
enum class CsvSource { kRegularFile, kRegularFileOrPipe };

class CsvReader final {
 public:
  // Size of the chunks in which the file is read.
  static constexpr size_t kDefaultBufferBytes = size_t{1} << 20;
  // The longest line (header or row) a file may have, and the most columns.
  static constexpr size_t kMaxLineBytes = size_t{64} << 20;
  static constexpr size_t kMaxColumns = core::kMaxColumns;

  // Opens the file and reads the header; with kRegularFile (as OpenRegularFile: never
  // waiting on a FIFO). NOT_FOUND when the file is missing; PERMISSION_DENIED when it cannot
  // be read for lack of rights; INVALID_ARGUMENT for a file `source` does not take (a
  // directory, a FIFO), an empty file, an empty or duplicate column name, more than
  // kMaxColumns columns, or a line longer than kMaxLineBytes. Column names that are not
  // UTF-8 are read as Latin-1.
  static Result<std::unique_ptr<CsvReader>> Open(const std::filesystem::path& path,
                                                 CsvSource source = CsvSource::kRegularFile);

  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  // All column names, in file order.
  const std::vector<std::string>& header() const;

  // Restricts reading to these columns, in this order; empty means all columns.
  // INVALID_ARGUMENT naming the first column the file does not have.
  [[nodiscard]] Status SelectColumns(const std::vector<std::string>& names);

  // Number of columns a batch has (selected, or all).
  int64_t width() const;

  // Reads up to max_rows further rows into *out, resized to (rows read) x width().
  // Returns the number of rows read; 0 at the end of the file.
  // INVALID_ARGUMENT naming the file, line number (1-based, header is line 1) and column
  // for a ragged row, an empty cell, a non-numeric cell, NaN or infinity, a number outside
  // float's range, or an empty line followed by more rows; INVALID_ARGUMENT when
  // max_rows < 1; INTERNAL when reading the file fails. An error is final: every later
  // call returns it again.
  Result<int64_t> ReadBatch(int64_t max_rows, Matrix* out);

 private:
  struct Impl;
  explicit CsvReader(std::unique_ptr<Impl> impl);
  friend Result<std::unique_ptr<CsvReader>> OpenCsvWithBufferSize(const std::filesystem::path& path,
                                                                  size_t buffer_bytes,
                                                                  CsvSource source);
  std::unique_ptr<Impl> impl_;
};

// Open() with chunks of buffer_bytes (at least 1) instead of kDefaultBufferBytes; lets tests
// put chunk boundaries anywhere in a small file.
Result<std::unique_ptr<CsvReader>> OpenCsvWithBufferSize(
    const std::filesystem::path& path, size_t buffer_bytes,
    CsvSource source = CsvSource::kRegularFile);

// What a node says about a dataset without showing it: row count and column names.
struct DatasetShape {
  int64_t rows = 0;
  std::vector<std::string> columns;
};

// Reads the whole file once (validating every row) and returns its shape.
Result<DatasetShape> InspectCsv(const std::filesystem::path& path);

}  // namespace dim::core
