#include "cli/rows_file.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
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
                                       " numbers a job may carry; put the rows in a dataset on a "
                                       "node");
}

core::Result<core::ClientData> ReadCsv(const std::string& file) {
  std::filesystem::path path = file;
  std::filesystem::path scratch;
  if (file == "-") {  // CsvReader reads files: spool stdin to one first
    scratch = std::filesystem::temp_directory_path() /
              ("dim-input-" + std::to_string(::getpid()) + ".csv");
    std::ofstream out(scratch, std::ios::binary);
    out << std::cin.rdbuf();
    path = scratch;
  }
  auto reader = core::CsvReader::Open(path);
  core::ClientData data;
  core::Status status = reader.status();
  if (reader.ok()) {
    data.columns = (*reader)->header();
    data.width = (*reader)->width();
    core::Matrix batch;
    for (;;) {
      auto n = (*reader)->ReadBatch(4096, &batch);
      if (!n.ok()) {
        status = n.status();
        break;
      }
      if (*n == 0) break;
      if ((data.rows + *n) * data.width > core::kMaxClientValues) {
        status = TooMany();
        break;
      }
      data.values.insert(data.values.end(), batch.data(), batch.data() + batch.size());
      data.rows += *n;
    }
    if (status.ok() && data.rows == 0) status = core::Status::InvalidArgument("no rows");
  }
  if (!scratch.empty()) std::filesystem::remove(scratch);
  if (!status.ok()) return status;
  return data;
}

// NumPy's format, version 1 to 3: magic, version, header length (2 or 4 bytes), a Python
// dict literal {'descr': ..., 'fortran_order': ..., 'shape': (...)}, then the data.
core::Result<core::ClientData> ReadNpy(const std::string& file) {
  constexpr size_t kMaxBytes = 64 + static_cast<size_t>(core::kMaxClientValues) * 8 + 65536;
  DIM_ASSIGN_OR_RETURN(std::string bytes, core::ReadRegularFile(file, kMaxBytes, file));
  auto bad = [](const std::string& why) { return core::Status::InvalidArgument(why); };
  if (bytes.size() < 10 || bytes.compare(0, 6, kNpyMagic, 6) != 0) return bad("not a .npy file");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, at = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    at = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad("truncated header");
    for (int i = 0; i < 4; ++i)
      header_len |= size_t{static_cast<unsigned char>(bytes[8 + i])} << (8 * i);
    at = 12;
  } else {
    return bad("unknown .npy version " + std::to_string(major));
  }
  // NumPy's own reader refuses headers over 10,000 bytes (max_header_size); so does this one,
  // which also bounds the work of reading it.
  if (header_len > 10000)
    return bad("header of " + std::to_string(header_len) + " bytes, over 10000");
  if (bytes.size() - at < header_len) return bad("truncated header");
  const std::string header = bytes.substr(at, header_len);
  at += header_len;
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('descr'\s*:\s*'([^']*)')"))) {
    return bad("no dtype in the header");
  }
  const std::string descr = m[1];
  if (descr != "<f4" && descr != "<f8") {
    return bad("dtype '" + descr + "': expected '<f4' or '<f8' (little-endian float32 or float64)");
  }
  if (std::regex_search(header, std::regex(R"('fortran_order'\s*:\s*True)"))) {
    return bad("fortran_order: expected C order (numpy.ascontiguousarray)");
  }
  if (!std::regex_search(header, m,
                         std::regex(R"('shape'\s*:\s*\(\s*(\d+)\s*,\s*(\d+)\s*,?\s*\))"))) {
    return bad("shape: expected a 2-D array (rows, columns)");
  }
  int64_t rows = 0, cols = 0;
  const std::string r = m[1], c = m[2];
  if (std::from_chars(r.data(), r.data() + r.size(), rows).ec != std::errc() ||
      std::from_chars(c.data(), c.data() + c.size(), cols).ec != std::errc() || rows < 1 ||
      cols < 1) {
    return bad("shape: expected at least 1 row and 1 column");
  }
  if (rows > core::kMaxClientValues / cols) return TooMany();
  const size_t item = descr == "<f4" ? 4 : 8;
  const size_t count = static_cast<size_t>(rows * cols);
  if (bytes.size() - at != count * item) {
    return bad(std::to_string(bytes.size() - at) + " bytes of data, expected " +
               std::to_string(count * item) + " for shape (" + r + ", " + c + ")");
  }
  core::ClientData data;
  data.rows = rows;
  data.width = cols;
  data.values.resize(count);
  for (size_t i = 0; i < count; ++i) {
    double v = 0;
    if (item == 4) {
      core::ReadFloat32Le(bytes.data() + at + i * 4, 1, &data.values[i]);
      v = data.values[i];
    } else {
      uint64_t bits = 0;
      for (int b = 0; b < 8; ++b) {
        bits |= uint64_t{static_cast<unsigned char>(bytes[at + i * 8 + b])} << (8 * b);
      }
      std::memcpy(&v, &bits, 8);
      data.values[i] = static_cast<float>(v);
    }
    if (!std::isfinite(data.values[i])) {
      return bad("row " + std::to_string(i / cols) + ", column " + std::to_string(i % cols) +
                 ": expected a finite float32");
    }
  }
  return data;
}

}  // namespace

core::Result<core::ClientData> ReadRowsFile(const std::string& file) {
  auto rows = IsNpy(file) ? ReadNpy(file) : ReadCsv(file);
  if (!rows.ok()) {
    return core::Status(rows.status().code(),
                        "--input-data " + file + ": " + rows.status().message());
  }
  return rows;
}

core::Status WriteRowsFile(const std::string& file, const core::ClientData& rows) {
  std::string out;
  if (IsNpy(file)) {
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                         std::to_string(rows.rows) + ", " + std::to_string(rows.width) + "), }";
    // Magic, version 1.0 and the header's length: the data starts at a multiple of 64.
    const size_t unpadded = 10 + header.size() + 1;
    header.append((64 - unpadded % 64) % 64, ' ');
    header += '\n';
    out.append(kNpyMagic, 6);
    out += '\x01';
    out += '\x00';
    out += static_cast<char>(header.size() & 0xff);
    out += static_cast<char>(header.size() >> 8);
    out += header;
    core::AppendFloat32Le(rows.values.data(), rows.values.size(), out);
  } else {
    for (int64_t c = 0; c < rows.width; ++c) {
      if (c > 0) out += ',';
      out += c < static_cast<int64_t>(rows.columns.size()) ? rows.columns[c]
                                                           : "output_" + std::to_string(c);
    }
    out += '\n';
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
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f.write(out.data(), static_cast<std::streamsize>(out.size()));
  f.close();
  if (!f) return core::Status::Unavailable("--rows-out " + file + ": cannot write the file");
  return core::Status::Ok();
}

}  // namespace dim::cli
