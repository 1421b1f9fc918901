#include "core/data/csv_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>

#include "core/regular_file.h"
#include "core/text.h"

namespace dim::core {
namespace {

// The first rows of a batch are allocated at once; more only as rows actually arrive, so a
// huge max_rows ("read everything") does not allocate for rows the file does not have.
constexpr int64_t kInitialBatchRows = 4096;
// Cells quoted in error messages are cut to this length.
constexpr size_t kMaxQuotedCell = 40;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

bool IsBlankLine(std::string_view line) { return Trim(line).empty(); }

// A cell as an error message quotes it: valid UTF-8 (a Latin-1 "h\xe9" is "hé"), cut on a
// character boundary.
std::string Quote(std::string_view cell) { return "'" + Snippet(cell, kMaxQuotedCell) + "'"; }

enum class CellError { kNone, kEmpty, kNotANumber, kNotFinite, kOutOfRange };

// Parses one trimmed cell. from_chars rejects a leading '+', which people and some tools
// write, so it is skipped here; "+-1" stays an error.
CellError ParseCell(std::string_view cell, float* value) {
  if (cell.empty()) return CellError::kEmpty;
  std::string_view digits = cell;
  if (digits.size() > 1 && digits.front() == '+' && digits[1] != '-' && digits[1] != '+') {
    digits.remove_prefix(1);
  }
  const char* first = digits.data();
  const char* last = first + digits.size();
  auto [ptr, ec] = std::from_chars(first, last, *value);
  if (ec == std::errc::result_out_of_range) {
    // libstdc++ also reports underflow (1e-50) as out of range; such values are 0 to
    // float's precision, so they are read through double and rounded.
    double wide = 0;
    auto [wide_ptr, wide_ec] = std::from_chars(first, last, wide);
    if (wide_ec != std::errc() || wide_ptr != last) return CellError::kOutOfRange;
    if (std::fabs(wide) > static_cast<double>(std::numeric_limits<float>::max())) {
      return CellError::kOutOfRange;
    }
    *value = static_cast<float>(wide);
    return CellError::kNone;
  }
  if (ec != std::errc() || ptr != last) return CellError::kNotANumber;
  if (!std::isfinite(*value)) return CellError::kNotFinite;
  return CellError::kNone;
}

}  // namespace

struct CsvReader::Impl {
  std::string name;  // file name only, for messages
  FilePtr file;
  std::vector<char> buffer;
  size_t begin = 0;    // first unconsumed byte in buffer
  size_t end = 0;      // one past the last valid byte in buffer
  size_t scanned = 0;  // bytes after begin known to hold no '\n'
  bool at_eof = false;
  int64_t line_number = 0;  // of the last line taken
  std::vector<std::string> header;
  std::vector<int64_t> selected;   // column indices of a batch, in batch order
  std::vector<float> row;          // every cell of the current line
  int64_t pending_blank_line = 0;  // first of a run of empty lines not yet known to be last
  bool finished = false;
  Status error;  // sticky once set

  std::string Where(int64_t line) const { return name + " line " + std::to_string(line); }

  Status Fail(Status status) {
    error = status;
    return status;
  }

  // Takes the next line (without its "\n" or "\r\n") into *line, valid until the next call.
  // Sets *got to false at the end of the file.
  Status NextLine(std::string_view* line, bool* got) {
    for (;;) {
      const char* base = buffer.data();
      const void* newline = std::memchr(base + begin + scanned, '\n', end - begin - scanned);
      if (newline != nullptr) {
        size_t stop = static_cast<size_t>(static_cast<const char*>(newline) - base);
        TakeLine(stop, stop + 1, line);
        *got = true;
        return Status::Ok();
      }
      scanned = end - begin;
      if (at_eof) {
        if (begin == end) {
          *got = false;
          return Status::Ok();
        }
        TakeLine(end, end, line);
        *got = true;
        return Status::Ok();
      }
      DIM_RETURN_IF_ERROR(Refill());
    }
  }

  void TakeLine(size_t stop, size_t next, std::string_view* line) {
    std::string_view text(buffer.data() + begin, stop - begin);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    *line = text;
    begin = next;
    scanned = 0;
    ++line_number;
  }

  // Moves the partial line to the front of the buffer and reads the next chunk after it;
  // grows the buffer only when one line fills it.
  Status Refill() {
    if (begin > 0) {
      std::memmove(buffer.data(), buffer.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    if (end == buffer.size()) {
      if (buffer.size() >= CsvReader::kMaxLineBytes) {
        return Status::InvalidArgument(Where(line_number + 1) + ": a line longer than " +
                                       std::to_string(CsvReader::kMaxLineBytes >> 20) + " MiB");
      }
      buffer.resize(std::min(buffer.size() * 2, CsvReader::kMaxLineBytes));
    }
    size_t n = std::fread(buffer.data() + end, 1, buffer.size() - end, file.get());
    end += n;
    if (n == 0) {
      if (std::ferror(file.get()) != 0) {
        return Status::Internal(name + ": read error: " + std::strerror(errno));
      }
      at_eof = true;
    }
    return Status::Ok();
  }

  Status ReadHeader() {
    std::string_view line;
    bool got = false;
    DIM_RETURN_IF_ERROR(NextLine(&line, &got));
    if (!got) return Status::InvalidArgument(name + ": the file is empty");
    constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
    if (line.starts_with(kByteOrderMark)) line.remove_prefix(kByteOrderMark.size());
    if (IsBlankLine(line)) {
      return Status::InvalidArgument(Where(1) + ": the header row is empty");
    }
    const size_t columns = static_cast<size_t>(std::count(line.begin(), line.end(), ',')) + 1;
    if (columns > CsvReader::kMaxColumns) {
      return Status::InvalidArgument(Where(1) + ": " + std::to_string(columns) +
                                     " columns, more than the " +
                                     std::to_string(CsvReader::kMaxColumns) + " allowed");
    }
    header.reserve(columns);
    std::unordered_set<std::string> seen;  // hashed: a wide header is checked in linear time
    seen.reserve(columns);
    for (;;) {
      size_t comma = line.find(',');
      std::string_view cell = Trim(line.substr(0, comma));
      if (cell.empty()) {
        return Status::InvalidArgument(Where(1) + ": empty column name (column " +
                                       std::to_string(header.size() + 1) + ")");
      }
      // A name that is not UTF-8 is read as Latin-1 (a spreadsheet's "\xe2ge" is "âge"), so
      // that it can be shown, sent and named in a job like any other.
      std::string name = ToValidUtf8(cell);
      if (!seen.insert(name).second) {
        return Status::InvalidArgument(Where(1) + ": duplicate column name '" + Snippet(name) +
                                       "'");
      }
      header.push_back(std::move(name));
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
    row.resize(header.size());
    selected.resize(header.size());
    for (size_t i = 0; i < header.size(); ++i) selected[i] = static_cast<int64_t>(i);
    return Status::Ok();
  }

  // Parses every cell of a data line into row.
  Status ParseRow(std::string_view line) {
    size_t cells = static_cast<size_t>(std::count(line.begin(), line.end(), ',')) + 1;
    if (cells != header.size()) {
      return Status::InvalidArgument(Where(line_number) + ": expected " +
                                     std::to_string(header.size()) + " cells, got " +
                                     std::to_string(cells));
    }
    for (size_t column = 0; column < cells; ++column) {
      size_t comma = line.find(',');
      std::string_view cell = Trim(line.substr(0, comma));
      CellError e = ParseCell(cell, &row[column]);
      if (e != CellError::kNone) return CellStatus(e, column, cell);
      if (comma != std::string_view::npos) line.remove_prefix(comma + 1);
    }
    return Status::Ok();
  }

  Status CellStatus(CellError e, size_t column, std::string_view cell) const {
    std::string where = Where(line_number) + ", column '" + header[column] + "': ";
    switch (e) {
      case CellError::kEmpty:
        return Status::InvalidArgument(where + "empty cell");
      case CellError::kNotANumber:
        return Status::InvalidArgument(where + "not a number: " + Quote(cell));
      case CellError::kNotFinite:
        return Status::InvalidArgument(where + "NaN or infinity is not allowed");
      case CellError::kOutOfRange:
        return Status::InvalidArgument(where + "number out of float range: " + Quote(cell));
      case CellError::kNone:
        break;
    }
    return Status::Ok();
  }

  // Takes the next data row into `row`; *got is false at the end of the data. Empty lines
  // end the data; one followed by a row is an error.
  Status NextRow(bool* got) {
    for (;;) {
      std::string_view line;
      bool have_line = false;
      DIM_RETURN_IF_ERROR(NextLine(&line, &have_line));
      if (!have_line) {
        *got = false;
        return Status::Ok();
      }
      if (IsBlankLine(line)) {
        if (pending_blank_line == 0) pending_blank_line = line_number;
        continue;
      }
      if (pending_blank_line != 0) {
        return Status::InvalidArgument(
            Where(pending_blank_line) +
            ": empty line (empty lines are allowed only at the end of the file)");
      }
      DIM_RETURN_IF_ERROR(ParseRow(line));
      *got = true;
      return Status::Ok();
    }
  }
};

CsvReader::CsvReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CsvReader::~CsvReader() = default;

Result<std::unique_ptr<CsvReader>> OpenCsvWithBufferSize(const std::filesystem::path& path,
                                                         size_t buffer_bytes, CsvSource source) {
  auto impl = std::make_unique<CsvReader::Impl>();
  impl->name = path.filename().string();
  auto opened = OpenRegularFile(path, impl->name);
  if (!opened.ok() && source == CsvSource::kRegularFileOrPipe) {
    std::error_code ec;
    if (std::filesystem::is_fifo(path, ec)) opened = FilePtr(std::fopen(path.c_str(), "rb"));
    if (opened.ok() && *opened == nullptr) {
      return Status::Internal(impl->name + ": cannot open: " + std::strerror(errno));
    }
  }
  if (!opened.ok()) return opened.status();
  impl->file = std::move(*opened);
  // A small file gets a buffer of its size (the buffer is zeroed, and most datasets of short
  // tasks are far below buffer_bytes); it grows should the file grow meanwhile.
  size_t size = std::max<size_t>(buffer_bytes, 1);
  if (struct stat st {}; fstat(fileno(impl->file.get()), &st) == 0 && S_ISREG(st.st_mode)) {
    constexpr size_t kMinBufferBytes = 64 * 1024;
    size = std::min(size, std::max(static_cast<size_t>(st.st_size) + 1, kMinBufferBytes));
  }
  impl->buffer.resize(size);
  DIM_RETURN_IF_ERROR(impl->ReadHeader());
  // The constructor is private, so make_unique cannot reach it.
  return std::unique_ptr<CsvReader>(new CsvReader(std::move(impl)));
}

Result<std::unique_ptr<CsvReader>> CsvReader::Open(const std::filesystem::path& path,
                                                   CsvSource source) {
  return OpenCsvWithBufferSize(path, kDefaultBufferBytes, source);
}

const std::vector<std::string>& CsvReader::header() const { return impl_->header; }

Status CsvReader::SelectColumns(const std::vector<std::string>& names) {
  const std::vector<std::string>& header = impl_->header;
  std::vector<int64_t> selected;
  if (names.empty()) {
    for (size_t i = 0; i < header.size(); ++i) selected.push_back(static_cast<int64_t>(i));
  }
  for (const std::string& name : names) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end()) {
      return Status::InvalidArgument(impl_->name + ": no column named '" + name + "'");
    }
    selected.push_back(it - header.begin());
  }
  impl_->selected = std::move(selected);
  return Status::Ok();
}

int64_t CsvReader::width() const { return static_cast<int64_t>(impl_->selected.size()); }

Result<int64_t> CsvReader::ReadBatch(int64_t max_rows, Matrix* out) {
  Impl& in = *impl_;
  if (!in.error.ok()) return in.error;
  if (max_rows < 1) {
    return Status::InvalidArgument("max_rows must be at least 1, got " + std::to_string(max_rows));
  }
  const int64_t width = this->width();
  int64_t capacity = std::min(max_rows, kInitialBatchRows);
  out->resize(capacity, width);
  int64_t rows = 0;
  while (rows < max_rows && !in.finished) {
    bool got = false;
    Status status = in.NextRow(&got);
    if (!status.ok()) return in.Fail(std::move(status));
    if (!got) {
      in.finished = true;
      break;
    }
    if (rows == capacity) {
      capacity = std::min(max_rows, capacity * 2);
      out->conservativeResize(capacity, width);
    }
    float* dst = out->data() + rows * width;
    for (int64_t j = 0; j < width; ++j) dst[j] = in.row[static_cast<size_t>(in.selected[j])];
    ++rows;
  }
  if (rows != capacity) out->conservativeResize(rows, width);
  return rows;
}

Result<DatasetShape> InspectCsv(const std::filesystem::path& path) {
  DIM_ASSIGN_OR_RETURN(std::unique_ptr<CsvReader> reader, CsvReader::Open(path));
  DatasetShape shape;
  shape.columns = reader->header();
  Matrix batch;
  for (;;) {
    DIM_ASSIGN_OR_RETURN(int64_t rows, reader->ReadBatch(kInitialBatchRows, &batch));
    if (rows == 0) break;
    shape.rows += rows;
  }
  return shape;
}

}  // namespace dim::core
