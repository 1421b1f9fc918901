// A plain folder of models (NAME.onnx), as local mode and a daemon's --models use it: what
// `dim --local model push | ls` do.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/models/model_store.h"
#include "core/status.h"

namespace dim::core {

// Checks that `file` is a model dim can run (Model::LoadBytes on the CPU) and copies it to
// DIR/NAME.onnx (DIR created if missing), through a temporary file renamed into place, so
// a task never sees half a model. Returns name, sha256, size and pushed_at (now).
// INVALID_ARGUMENT for a name that is not plain, a file that cannot be read, or one the
// loader refuses (its message); UNAVAILABLE when DIR cannot be written.
Result<StoredModel> InstallModelFile(const std::filesystem::path& dir, const std::string& name,
                                     const std::filesystem::path& file, const Clock& clock);

// The folder's NAME.onnx models, sorted by name, with the sha256 and size of each file and
// its modification time as pushed_at. A missing folder has none.
std::vector<StoredModel> ListModelFolder(const std::filesystem::path& dir);

}  // namespace dim::core
