// libFuzzer target for the CSV reader: any file must read or be refused with an error.
// The reader works on files, so each input is written to one temporary file per process
// (reused) and read back with the default buffer and with a tiny one chosen from the
// input, so chunk boundaries fall everywhere.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/data/csv_reader.h"
#include "core/matrix.h"

namespace {

namespace fs = std::filesystem;

// Removes the process's temporary file at exit, so fuzzing leaves nothing behind.
class ScratchFile final {
 public:
  ScratchFile()
      : path_(fs::temp_directory_path() / ("dim_fuzz_csv_" + std::to_string(::getpid()) + ".csv")) {}
  ~ScratchFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const fs::path& Write(const uint8_t* data, size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    out.close();
    if (!out) std::abort();  // The fuzzer cannot work without its file.
    return path_;
  }

 private:
  fs::path path_;
};

// Reads the whole file in batches whose sizes cycle through `sizes`; stops at the first
// error, which must then be returned again (errors are final).
void ReadAll(dim::core::CsvReader& reader, uint8_t seed) {
  constexpr int64_t kSizes[] = {1, 2, 3, 7, 64};
  dim::core::Matrix batch;
  for (size_t i = seed;; ++i) {
    const int64_t rows = kSizes[i % std::size(kSizes)];
    auto n = reader.ReadBatch(rows, &batch);
    if (!n.ok()) {
      if (reader.ReadBatch(1, &batch).ok()) std::abort();
      return;
    }
    if (*n == 0) return;
    if (batch.rows() != *n || batch.cols() != reader.width()) std::abort();
  }
}

void Exercise(std::unique_ptr<dim::core::CsvReader> reader, uint8_t seed) {
  // Select the header's columns in reverse order when there are several: the selection
  // path must read the same cells as the whole-row path.
  const auto& header = reader->header();
  if (header.size() > 1 && seed % 2 == 1) {
    std::vector<std::string> reversed(header.rbegin(), header.rend());
    if (!reader->SelectColumns(reversed).ok()) std::abort();
  }
  dim::core::Matrix unused;
  if (reader->ReadBatch(0, &unused).ok()) std::abort();  // max_rows < 1 is refused.
  ReadAll(*reader, seed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ScratchFile scratch;
  const fs::path& path = scratch.Write(data, size);
  // The first byte picks the small buffer (1..16 bytes) and the batch sizes; it is also
  // part of the file, so the fuzzer needs no separate framing.
  const uint8_t seed = size > 0 ? data[0] : 0;
  const size_t small_buffer = 1 + seed % 16;

  if (auto reader = dim::core::CsvReader::Open(path); reader.ok()) {
    Exercise(std::move(*reader), seed);
  }
  if (auto reader = dim::core::OpenCsvWithBufferSize(path, small_buffer); reader.ok()) {
    Exercise(std::move(*reader), static_cast<uint8_t>(seed / 16));
  }
  (void)dim::core::InspectCsv(path);
  return 0;
}
