#include "cli/rows_file.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include "core/data/csv_reader.h"
#include "core/matrix.h"
#include "core/regular_file.h"

namespace dim::cli {
namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";

bool IsNpy(const std::string& file) {
  return file.size() > 4 && file.compare(file.size() - 4, 4, ".npy") == 0;
}

core::Status TooMany() {
  return core::Status::InvalidArgument("more than the " + std::to_string(core::kMaxClientValues) +
                                       " numbers one message carries");
}

core::Status Bad(const std::string& why) { return core::Status::InvalidArgument(why); }

// A CSV file with a header row, read through core::CsvReader.
class CsvRows final : public RowsFileReader {
 public:
  static core::Result<std::unique_ptr<RowsFileReader>> Open(const std::string& file) {
    auto rows = std::unique_ptr<CsvRows>(new CsvRows());
    std::filesystem::path path = file;
    if (file == "-") {  // CsvReader reads files: spool stdin to one first
      // A name of its own (mkstemp), never one another user could have put a link at.
      std::string name = (std::filesystem::temp_directory_path() / "dim-input-XXXXXX").string();
      const int fd = ::mkstemp(name.data());
      if (fd < 0) return core::Status::Internal("cannot make a file for standard input");
      ::close(fd);
      rows->scratch_ = name;
      std::ofstream out(rows->scratch_, std::ios::binary | std::ios::trunc);
      out << std::cin.rdbuf();
      out.close();
      if (!out) return core::Status::Internal("cannot spool standard input to " + name);
      path = rows->scratch_;
    } else {
      std::error_code ec;
      rows->size_ = static_cast<int64_t>(std::filesystem::file_size(path, ec));
      if (ec) rows->size_ = 0;
    }
    DIM_ASSIGN_OR_RETURN(rows->reader_, core::CsvReader::Open(path));
    return std::unique_ptr<RowsFileReader>(std::move(rows));
  }

  ~CsvRows() override {
    reader_.reset();
    if (!scratch_.empty()) std::filesystem::remove(scratch_);
  }

  core::Result<std::optional<core::ClientData>> Next(int64_t max_values) override {
    const int64_t width = reader_->width();
    const int64_t want = std::max<int64_t>(1, max_values / std::max<int64_t>(1, width));
    DIM_ASSIGN_OR_RETURN(int64_t n, reader_->ReadBatch(want, &batch_));
    if (n == 0) {
      if (!any_) return Bad("no rows");
      return std::optional<core::ClientData>();
    }
    any_ = true;
    core::ClientData data;
    data.columns = reader_->header();
    data.width = width;
    data.rows = n;
    data.values.assign(batch_.data(), batch_.data() + batch_.size());
    return std::optional<core::ClientData>(std::move(data));
  }

  int64_t size_bytes() const override { return size_; }

 private:
  CsvRows() = default;
  std::filesystem::path scratch_;
  std::unique_ptr<core::CsvReader> reader_;
  core::Matrix batch_;
  int64_t size_ = 0;
  bool any_ = false;
};

// NumPy's format, version 1 to 3: magic, version, header length (2 or 4 bytes), a Python
// dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then the data.
class NpyRows final : public RowsFileReader {
 public:
  static core::Result<std::unique_ptr<RowsFileReader>> Open(const std::string& file) {
    auto rows = std::unique_ptr<NpyRows>(new NpyRows());
    DIM_ASSIGN_OR_RETURN(rows->file_, core::OpenRegularFile(file, file));
    std::FILE* f = rows->file_.get();
    std::error_code ec;
    rows->size_ = static_cast<int64_t>(std::filesystem::file_size(file, ec));
    if (ec) return core::Status::Internal(file + ": " + ec.message());
    char lead[12];
    if (std::fread(lead, 1, 10, f) != 10 || std::memcmp(lead, kNpyMagic, 6) != 0) {
      return Bad("not a .npy file");
    }
    const int major = static_cast<unsigned char>(lead[6]);
    size_t header_len = 0, at = 0;
    if (major == 1) {
      header_len = static_cast<unsigned char>(lead[8]) | static_cast<unsigned char>(lead[9]) << 8;
      at = 10;
    } else if (major == 2 || major == 3) {
      if (std::fread(lead + 10, 1, 2, f) != 2) return Bad("truncated header");
      for (int i = 0; i < 4; ++i)
        header_len |= size_t{static_cast<unsigned char>(lead[8 + i])} << (8 * i);
      at = 12;
    } else {
      return Bad("unknown .npy version " + std::to_string(major));
    }
    // NumPy's own reader refuses headers over 10,000 bytes (max_header_size); so does this
    // one, which also bounds the work of reading it.
    if (header_len > 10000)
      return Bad("header of " + std::to_string(header_len) + " bytes, over 10000");
    std::string header(header_len, '\0');
    if (std::fread(header.data(), 1, header_len, f) != header_len) return Bad("truncated header");
    at += header_len;
    std::smatch m;
    if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')"))) {
      return Bad("no dtype in the header");
    }
    const std::string descr = m[1];
    if (descr != "<f4" && descr != "<f8") {
      return Bad("dtype '" + descr +
                 "': expected '<f4' or '<f8' (little-endian float32 or float64)");
    }
    if (std::regex_search(header, std::regex(R"('fortran_order'\s*:\s*True)"))) {
      return Bad("fortran_order: expected C order (numpy.ascontiguousarray)");
    }
    if (!std::regex_search(header, m,
                           std::regex(R"('shape'\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*,?\s*\))"))) {
      return Bad("shape: expected a 2-D array (rows, columns)");
    }
    const std::string r = m[1], c = m[2];
    if (std::from_chars(r.data(), r.data() + r.size(), rows->rows_).ec != std::errc() ||
        std::from_chars(c.data(), c.data() + c.size(), rows->cols_).ec != std::errc() ||
        rows->rows_ < 1 || rows->cols_ < 1) {
      return Bad("shape: expected at least 1 row and 1 column");
    }
    if (rows->rows_ > core::kMaxStreamedValues / rows->cols_) {
      return Bad("shape (" + r + ", " + c + "): more than the " +
                 std::to_string(core::kMaxStreamedValues) + " numbers a job's rows may hold");
    }
    rows->item_ = descr == "<f4" ? 4 : 8;
    const int64_t want = rows->rows_ * rows->cols_ * rows->item_;
    if (rows->size_ - static_cast<int64_t>(at) != want) {
      return Bad(std::to_string(rows->size_ - static_cast<int64_t>(at)) +
                 " bytes of data, expected " + std::to_string(want) + " for shape (" + r + ", " +
                 c + ")");
    }
    return std::unique_ptr<RowsFileReader>(std::move(rows));
  }

  core::Result<std::optional<core::ClientData>> Next(int64_t max_values) override {
    if (done_ == rows_) return std::optional<core::ClientData>();
    const int64_t n = std::min(rows_ - done_, std::max<int64_t>(1, max_values / cols_));
    const size_t count = static_cast<size_t>(n * cols_);
    bytes_.resize(count * item_);
    if (std::fread(bytes_.data(), 1, bytes_.size(), file_.get()) != bytes_.size()) {
      return Bad("the file ended before its " + std::to_string(rows_) + " rows");
    }
    core::ClientData data;
    data.rows = n;
    data.width = cols_;
    data.values.resize(count);
    for (size_t i = 0; i < count; ++i) {
      if (item_ == 4) {
        core::ReadFloat32Le(bytes_.data() + i * 4, 1, &data.values[i]);
      } else {
        uint64_t bits = 0;
        for (int b = 0; b < 8; ++b) {
          bits |= uint64_t{static_cast<unsigned char>(bytes_[i * 8 + b])} << (8 * b);
        }
        double v = 0;
        std::memcpy(&v, &bits, 8);
        data.values[i] = static_cast<float>(v);
      }
      if (!std::isfinite(data.values[i])) {
        const int64_t row = done_ + static_cast<int64_t>(i) / cols_;
        return Bad("row " + std::to_string(row) + ", column " +
                   std::to_string(static_cast<int64_t>(i) % cols_) + ": expected a finite float32");
      }
    }
    done_ += n;
    return std::optional<core::ClientData>(std::move(data));
  }

  int64_t size_bytes() const override { return size_; }

 private:
  NpyRows() = default;
  core::FilePtr file_;
  int64_t size_ = 0;
  int64_t rows_ = 0, cols_ = 0, done_ = 0;
  size_t item_ = 4;
  std::string bytes_;
};

// Prefixes the file's name to a reader's errors.
core::Status Named(const std::string& flag, const std::string& file, const core::Status& s) {
  return core::Status(s.code(), flag + " " + file + ": " + s.message());
}

class NamedReader final : public RowsFileReader {
 public:
  NamedReader(std::string file, std::unique_ptr<RowsFileReader> inner)
      : file_(std::move(file)), inner_(std::move(inner)) {}
  core::Result<std::optional<core::ClientData>> Next(int64_t max_values) override {
    auto next = inner_->Next(max_values);
    if (!next.ok()) return Named("--input-data", file_, next.status());
    return next;
  }
  int64_t size_bytes() const override { return inner_->size_bytes(); }

 private:
  std::string file_;
  std::unique_ptr<RowsFileReader> inner_;
};

class FileWriter final : public RowsFileWriter {
 public:
  FileWriter(std::string file, bool npy, int64_t rows, int64_t width)
      : file_(std::move(file)), npy_(npy), rows_(rows), width_(width) {}

  ~FileWriter() override {
    if (!closed_) {  // never finished: the part written goes, and FILE is left as it was
      out_.close();
      std::error_code ec;
      std::filesystem::remove(part_, ec);
    }
  }

  core::Status Begin(const std::vector<std::string>& columns) {
    // Written beside FILE and renamed over it once complete.
    part_ = file_ + ".part";
    out_.open(part_, std::ios::binary | std::ios::trunc);
    std::string head;
    if (npy_) {
      std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                           std::to_string(rows_) + ", " + std::to_string(width_) + "), }";
      // Magic, version 1.0 and the header's length: the data starts at a multiple of 64.
      const size_t unpadded = 10 + header.size() + 1;
      header.append((64 - unpadded % 64) % 64, ' ');
      header += '\n';
      head.append(kNpyMagic, 6);
      head += '\x01';
      head += '\x00';
      head += static_cast<char>(header.size() & 0xff);
      head += static_cast<char>(header.size() >> 8);
      head += header;
    } else {
      for (int64_t c = 0; c < width_; ++c) {
        if (c > 0) head += ',';
        head +=
            c < static_cast<int64_t>(columns.size()) ? columns[c] : "output_" + std::to_string(c);
      }
      head += '\n';
    }
    return Put(head);
  }

  core::Status Append(const core::ClientData& rows) override {
    if (rows.width != width_) {
      return core::Status::Internal("--rows-out " + file_ + ": rows of width " +
                                    std::to_string(rows.width) + ", expected " +
                                    std::to_string(width_));
    }
    std::string out;
    if (npy_) {
      core::AppendFloat32Le(rows.values.data(), rows.values.size(), out);
    } else {
      char buf[32];
      for (int64_t r = 0; r < rows.rows; ++r) {
        for (int64_t c = 0; c < rows.width; ++c) {
          if (c > 0) out += ',';
          auto end = std::to_chars(buf, buf + sizeof buf, rows.values[r * rows.width + c]).ptr;
          out.append(buf, end);
        }
        out += '\n';
      }
    }
    written_ += rows.rows;
    return Put(out);
  }

  core::Status Close() override {
    out_.close();
    if (!out_) return core::Status::Unavailable("--rows-out " + file_ + ": cannot write the file");
    if (written_ != rows_) {
      return core::Status(core::StatusCode::kDataLoss,
                          "--rows-out " + file_ + ": " + std::to_string(written_) +
                              " rows came of the " + std::to_string(rows_) + " expected");
    }
    std::error_code ec;
    std::filesystem::rename(part_, file_, ec);
    if (ec) return core::Status::Unavailable("--rows-out " + file_ + ": " + ec.message());
    closed_ = true;
    return core::Status::Ok();
  }

 private:
  core::Status Put(const std::string& bytes) {
    out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out_) return core::Status::Unavailable("--rows-out " + file_ + ": cannot write the file");
    return core::Status::Ok();
  }

  std::string file_;
  bool npy_;
  int64_t rows_, width_;
  int64_t written_ = 0;
  std::string part_;
  bool closed_ = false;
  std::ofstream out_;
};

}  // namespace

core::Result<std::unique_ptr<RowsFileReader>> RowsFileReader::Open(const std::string& file) {
  auto reader = IsNpy(file) ? NpyRows::Open(file) : CsvRows::Open(file);
  if (!reader.ok()) return Named("--input-data", file, reader.status());
  return std::unique_ptr<RowsFileReader>(new NamedReader(file, std::move(*reader)));
}

core::Result<core::ClientData> ReadRowsFile(const std::string& file) {
  DIM_ASSIGN_OR_RETURN(auto reader, RowsFileReader::Open(file));
  core::ClientData all;
  for (;;) {
    DIM_ASSIGN_OR_RETURN(auto next, reader->Next(core::kMaxClientValues + 1));
    if (!next) break;
    if ((all.rows + next->rows) * next->width > core::kMaxClientValues) {
      return Named("--input-data", file, TooMany());
    }
    if (all.rows == 0) {
      all = *std::move(next);
    } else {
      all.values.insert(all.values.end(), next->values.begin(), next->values.end());
      all.rows += next->rows;
    }
  }
  return all;
}

core::Result<std::unique_ptr<RowsFileWriter>> RowsFileWriter::Open(
    const std::string& file, int64_t rows, int64_t width, const std::vector<std::string>& columns) {
  auto writer = std::make_unique<FileWriter>(file, IsNpy(file), rows, width);
  DIM_RETURN_IF_ERROR(writer->Begin(columns));
  return std::unique_ptr<RowsFileWriter>(std::move(writer));
}

core::Status WriteRowsFile(const std::string& file, const core::ClientData& rows) {
  DIM_ASSIGN_OR_RETURN(auto writer,
                       RowsFileWriter::Open(file, rows.rows, rows.width, rows.columns));
  DIM_RETURN_IF_ERROR(writer->Append(rows));
  return writer->Close();
}

}  // namespace dim::cli
