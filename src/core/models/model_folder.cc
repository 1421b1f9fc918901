#include "core/models/model_folder.h"

#include <algorithm>
#include <chrono>
#include <system_error>

#include "core/infer/model.h"
#include "core/models/durable_file.h"
#include "core/models/model_ref.h"
#include "core/regular_file.h"
#include "core/sha256.h"
#include "core/text.h"

namespace dim::core {

namespace fs = std::filesystem;

Result<StoredModel> InstallModelFile(const fs::path& dir, const std::string& name,
                                     const fs::path& file, const Clock& clock) {
  DIM_RETURN_IF_ERROR(CheckModelName(name));
  auto read = ReadRegularFile(file, Model::kMaxFileBytes);
  if (!read.ok()) return Status::InvalidArgument(read.status().message());
  const std::string& bytes = *read;
  if (bytes.empty()) return Status::InvalidArgument("model '" + name + "': the file is empty");
  auto model = Model::LoadBytes(bytes, name, Device::kCpu);
  if (!model.ok()) return Status::InvalidArgument(model.status().message());
  DIM_RETURN_IF_ERROR(WriteFileAtomically(dir / (name + ".onnx"), bytes, /*durable=*/true));
  return StoredModel{name, Sha256Hex(bytes), static_cast<int64_t>(bytes.size()),
                     FormatIso8601(clock.Now())};
}

std::vector<StoredModel> ListModelFolder(const fs::path& dir) {
  std::vector<StoredModel> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    std::error_code file_ec;
    // A file name that is not UTF-8 names no model a job could ask for.
    if (path.extension() != ".onnx" || !it->is_regular_file(file_ec) ||
        !IsValidUtf8(path.stem().string())) {
      continue;
    }
    auto sha = Sha256File(path);
    const auto size = fs::file_size(path, file_ec);
    const auto mtime = fs::last_write_time(path, file_ec);
    if (!sha.ok() || file_ec) continue;
    const auto when = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        std::chrono::file_clock::to_sys(mtime));
    out.push_back(
        StoredModel{path.stem().string(), *sha, static_cast<int64_t>(size), FormatIso8601(when)});
  }
  std::sort(out.begin(), out.end(),
            [](const StoredModel& a, const StoredModel& b) { return a.name < b.name; });
  return out;
}

}  // namespace dim::core
