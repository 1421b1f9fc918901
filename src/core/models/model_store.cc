#include "core/models/model_store.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "core/infer/model.h"
#include "core/models/model_ref.h"
#include "core/regular_file.h"
#include "core/text.h"

namespace dim::core {
namespace {

using nlohmann::json;

constexpr const char* kIndexFile = "index.json";

// The store's own files: the index and the blobs it wrote (at most kMaxModelBytes each).
constexpr size_t kMaxStoreFileBytes = size_t{4} << 30;

Result<std::string> ReadFileBytes(const std::filesystem::path& path) {
  auto bytes = ReadRegularFile(path, kMaxStoreFileBytes);
  if (!bytes.ok()) return Status::Unavailable(bytes.status().message());
  return bytes;
}

}  // namespace

Result<std::unique_ptr<ModelStore>> ModelStore::Open(const std::filesystem::path& dir,
                                                     const Clock& clock,
                                                     ModelStoreOptions options) {
  std::error_code ec;
  for (const auto& sub : {dir / "blobs", dir / "tmp"}) {
    std::filesystem::create_directories(sub, ec);
    if (ec) {
      return Status::Unavailable("model store: cannot create " + sub.string() + ": " +
                                 ec.message());
    }
  }
  // Uploads that a previous process did not finish.
  for (std::filesystem::directory_iterator it(dir / "tmp", ec), end; !ec && it != end;
       it.increment(ec)) {
    std::error_code ignored;
    std::filesystem::remove_all(it->path(), ignored);
  }
  std::unique_ptr<ModelStore> store(new ModelStore(dir, clock, options));
  DIM_RETURN_IF_ERROR(store->LoadIndex());
  return store;
}

Status ModelStore::LoadIndex() {
  const auto path = dir_ / kIndexFile;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::Ok();
  auto read = ReadFileBytes(path);
  if (!read.ok()) return read.status().WithPrefix("model store");
  const std::string& text = *read;
  const json doc = ParseUntrustedJson(text);
  auto bad = [&](const std::string& why) {
    return Status(StatusCode::kDataLoss, "model store: " + path.string() +
                                             " is not a model "
                                             "store index (" +
                                             why + ")");
  };
  if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_array() ||
      !doc.contains("blobs") || !doc["blobs"].is_array()) {
    return bad("expected an object with \"models\" and \"blobs\" arrays");
  }
  try {
    for (const auto& b : doc["blobs"]) {
      const std::string sha = b.at("sha256").get<std::string>();
      if (!IsSha256Hex(sha)) return bad("blob digest '" + sha + "'");
      if (!std::filesystem::is_regular_file(BlobPath(sha), ec)) continue;
      blobs_[sha] = Blob{b.at("size_bytes").get<int64_t>(), b.at("pushed_at").get<std::string>()};
    }
    for (const auto& m : doc["models"]) {
      StoredModel model{m.at("name").get<std::string>(), m.at("sha256").get<std::string>(),
                        m.at("size_bytes").get<int64_t>(), m.at("pushed_at").get<std::string>()};
      if (!IsPlainModelName(model.name)) return bad("model name '" + model.name + "'");
      if (!blobs_.count(model.sha256)) continue;  // its content is gone: it cannot be served
      names_[model.name] = std::move(model);
    }
  } catch (const json::exception& e) {
    return bad(e.what());
  }
  return Status::Ok();
}

Status ModelStore::SaveIndexLocked() const {
  json models = json::array();
  for (const auto& [name, m] : names_) {
    models.push_back({{"name", m.name},
                      {"sha256", m.sha256},
                      {"size_bytes", m.size_bytes},
                      {"pushed_at", m.pushed_at}});
  }
  json blobs = json::array();
  for (const auto& [sha, b] : blobs_) {
    blobs.push_back({{"sha256", sha}, {"size_bytes", b.size_bytes}, {"pushed_at", b.pushed_at}});
  }
  const json doc = {{"version", 1}, {"models", std::move(models)}, {"blobs", std::move(blobs)}};
  return WriteFileAtomically(dir_ / kIndexFile, DumpJson(doc, 1) + "\n", /*durable=*/true)
      .WithPrefix("model store");
}

std::filesystem::path ModelStore::BlobPath(const std::string& sha256) const {
  return dir_ / "blobs" / sha256;
}

Result<std::unique_ptr<ModelStore::Upload>> ModelStore::BeginUpload(const std::string& name) {
  DIM_RETURN_IF_ERROR(CheckModelName(name));
  DIM_ASSIGN_OR_RETURN(TempFile file, TempFile::Create(dir_ / "tmp", "push-"));
  return std::unique_ptr<Upload>(new Upload(*this, name, std::move(file)));
}

std::vector<StoredModel> ModelStore::List() const {
  std::lock_guard lock(mu_);
  std::vector<StoredModel> out;
  out.reserve(names_.size());
  for (const auto& [name, m] : names_) out.push_back(m);
  return out;
}

Result<StoredModel> ModelStore::Find(const std::string& model_id) const {
  DIM_RETURN_IF_ERROR(CheckModelId(model_id));
  std::lock_guard lock(mu_);
  if (auto sha = Sha256OfModelId(model_id)) {
    auto blob = blobs_.find(*sha);
    if (blob == blobs_.end()) {
      return Status::NotFound("model '" + model_id + "' not found in the model store");
    }
    StoredModel found{"", *sha, blob->second.size_bytes, blob->second.pushed_at};
    for (const auto& [name, m] : names_) {
      if (m.sha256 == *sha) {
        found.name = name;
        break;
      }
    }
    return found;
  }
  auto it = names_.find(model_id);
  if (it == names_.end()) {
    return Status::NotFound("model '" + model_id + "' not found in the model store");
  }
  return it->second;
}

Result<StoredModel> ModelStore::Commit(const std::string& name, TempFile file,
                                       const std::string& sha256) {
  const int64_t size = file.size();
  const auto blob = BlobPath(sha256);
  std::error_code ec;
  // The same content pushed before (under any name) is already in place: keep that copy.
  if (!std::filesystem::is_regular_file(blob, ec)) {
    DIM_RETURN_IF_ERROR(file.RenameTo(blob).WithPrefix("model store"));
  }
  std::lock_guard lock(mu_);
  StoredModel model{name, sha256, size, FormatIso8601(clock_.Now())};
  auto [it, added] = blobs_.try_emplace(sha256, Blob{size, model.pushed_at});
  (void)it;
  const auto previous = names_.find(name);
  std::optional<StoredModel> old;
  if (previous != names_.end()) old = previous->second;
  names_[name] = model;
  if (Status saved = SaveIndexLocked(); !saved.ok()) {
    // Not acknowledged: the name keeps pointing where it did.
    if (old) {
      names_[name] = *old;
    } else {
      names_.erase(name);
    }
    if (added) blobs_.erase(sha256);
    return saved;
  }
  return model;
}

Status ModelStore::Upload::Append(std::string_view bytes) {
  if (!failed_.ok()) return failed_;
  if (file_.size() + static_cast<int64_t>(bytes.size()) > store_.options_.max_model_bytes) {
    failed_ = Status::ResourceExhausted(
        "model '" + name_ + "' is larger than the model store's limit of " +
        std::to_string(store_.options_.max_model_bytes) + " bytes (--max-model-bytes)");
    return failed_;
  }
  hasher_.Update(bytes);
  failed_ = file_.Append(bytes);
  return failed_;
}

Result<StoredModel> ModelStore::Upload::Commit(const std::string& expected_sha256) {
  if (!failed_.ok()) return failed_;
  if (file_.size() == 0) {
    return Status::InvalidArgument("model '" + name_ + "': the file is empty");
  }
  DIM_RETURN_IF_ERROR(file_.Finish().WithPrefix("model store"));
  const std::string sha256 = hasher_.HexDigest();
  if (!expected_sha256.empty() && expected_sha256 != sha256) {
    return Status(StatusCode::kDataLoss, "model '" + name_ + "': the upload's sha256 is " + sha256 +
                                             ", but the client sent " + expected_sha256 +
                                             " (the bytes changed on the way)");
  }
  // What daemons will load must load: refuse it now, with the loader's message.
  DIM_ASSIGN_OR_RETURN(std::string bytes, ReadFileBytes(file_.path()));
  auto model = Model::LoadBytes(bytes, name_, Device::kCpu);
  if (!model.ok()) return Status::InvalidArgument(model.status().message());
  return store_.Commit(name_, std::move(file_), sha256);
}

}  // namespace dim::core
