#include "core/node/model_repository.h"

#include <algorithm>
#include <system_error>

namespace dim::core {
namespace {

bool IsPlainName(const std::string& id) {
  if (id.empty() || id.size() > 200 || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

ModelRepository::ModelRepository(std::filesystem::path dir, Device device)
    : dir_(std::move(dir)), device_(device) {}

Result<std::shared_ptr<const Model>> ModelRepository::Get(const std::string& model_id) {
  if (!IsPlainName(model_id)) {
    return Status::InvalidArgument("model id '" + model_id +
                                   "' is not a plain name (letters, digits, '-', '_', '.')");
  }
  const auto path = dir_ / (model_id + ".onnx");
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(path, ec);
  if (ec) {
    return Status::NotFound("model '" + model_id + "' not found (no " + path.string() + ")");
  }
  {
    std::lock_guard lock(mu_);
    auto it = loaded_.find(model_id);
    if (it != loaded_.end() && it->second.mtime == mtime) return it->second.model;
  }
  // Load outside the lock: a big model must not stall tasks that use other models.
  auto model = Model::LoadFile(path, device_);
  if (!model.ok()) return model.status();
  std::lock_guard lock(mu_);
  loaded_[model_id] = Entry{mtime, *model};
  return *model;
}

std::vector<std::string> ModelRepository::List() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir_, ec), end; !ec && it != end;
       it.increment(ec)) {
    const auto& p = it->path();
    if (p.extension() == ".onnx" && it->is_regular_file(ec)) ids.push_back(p.stem().string());
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace dim::core
