#include "core/models/model_cache_index.h"

#include <nlohmann/json.hpp>
#include <system_error>

#include "core/models/durable_file.h"
#include "core/models/model_ref.h"
#include "core/regular_file.h"
#include "core/text.h"

namespace dim::core {

using nlohmann::json;

Status ModelCacheIndex::Load() {
  entries_.clear();
  const auto path = dir_ / kFileName;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::Ok();
  // The folder's own record, written by this class: a few hundred bytes a model.
  constexpr size_t kMaxIndexBytes = size_t{64} << 20;
  auto read = ReadRegularFile(path, kMaxIndexBytes);
  const std::string text = read.ok() ? *std::move(read) : std::string();
  const json doc = ParseUntrustedJson(text);
  auto unreadable = [&](const std::string& why) {
    entries_.clear();
    return Status(StatusCode::kDataLoss,
                  path.string() + " is not a model cache record (" + why +
                      "); the models in the folder are kept and none of them will be evicted");
  };
  if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_array()) {
    return unreadable("expected an object with a \"models\" array");
  }
  try {
    for (const auto& m : doc["models"]) {
      CachedModel model;
      model.model_id = m.at("model_id").get<std::string>();
      model.file = m.at("file").get<std::string>();
      model.sha256 = m.at("sha256").get<std::string>();
      model.size_bytes = m.at("size_bytes").get<int64_t>();
      model.fetched_at = m.at("fetched_at").get<std::string>();
      model.last_used = m.at("last_used").get<std::string>();
      model.use_seq = m.at("use_seq").get<int64_t>();
      // Only files this daemon names itself: nothing outside the folder is ever deleted.
      const bool by_name =
          IsPlainModelName(model.model_id) && model.file == model.model_id + ".onnx";
      const auto sha = Sha256OfModelId(model.model_id);
      const bool by_digest = sha && model.file == ".sha256/" + *sha + ".onnx";
      if (!by_name && !by_digest) return unreadable("entry '" + model.model_id + "'");
      const auto size = std::filesystem::file_size(dir_ / model.file, ec);
      if (ec || static_cast<int64_t>(size) != model.size_bytes) continue;
      next_seq_ = std::max(next_seq_, model.use_seq + 1);
      entries_[model.model_id] = std::move(model);
    }
  } catch (const json::exception& e) {
    return unreadable(e.what());
  }
  return Status::Ok();
}

Status ModelCacheIndex::Save(bool durable) const {
  json models = json::array();
  for (const auto& [id, m] : entries_) {
    models.push_back({{"model_id", m.model_id},
                      {"file", m.file},
                      {"sha256", m.sha256},
                      {"size_bytes", m.size_bytes},
                      {"fetched_at", m.fetched_at},
                      {"last_used", m.last_used},
                      {"use_seq", m.use_seq}});
  }
  const json doc = {{"version", 1}, {"models", std::move(models)}};
  return WriteFileAtomically(dir_ / kFileName, DumpJson(doc, 1) + "\n", durable);
}

const CachedModel* ModelCacheIndex::Find(const std::string& model_id) const {
  auto it = entries_.find(model_id);
  return it == entries_.end() ? nullptr : &it->second;
}

const CachedModel* ModelCacheIndex::FindBySha256(const std::string& sha256) const {
  for (const auto& [id, m] : entries_) {
    if (m.sha256 == sha256) return &m;
  }
  return nullptr;
}

void ModelCacheIndex::Put(CachedModel model) {
  model.use_seq = next_seq_++;
  const std::string id = model.model_id;
  entries_[id] = std::move(model);
}

void ModelCacheIndex::Remove(const std::string& model_id) { entries_.erase(model_id); }

void ModelCacheIndex::Touch(const std::string& model_id, const std::string& when) {
  auto it = entries_.find(model_id);
  if (it == entries_.end()) return;
  it->second.last_used = when;
  it->second.use_seq = next_seq_++;
}

int64_t ModelCacheIndex::total_bytes() const {
  int64_t total = 0;
  for (const auto& [id, m] : entries_) total += m.size_bytes;
  return total;
}

std::vector<CachedModel> ModelCacheIndex::entries() const {
  std::vector<CachedModel> out;
  out.reserve(entries_.size());
  for (const auto& [id, m] : entries_) out.push_back(m);
  return out;
}

const CachedModel* ModelCacheIndex::LeastRecentlyUsed(const std::set<std::string>& keep) const {
  const CachedModel* oldest = nullptr;
  for (const auto& [id, m] : entries_) {
    if (keep.count(id)) continue;
    if (oldest == nullptr || m.use_seq < oldest->use_seq) oldest = &m;
  }
  return oldest;
}

}  // namespace dim::core
