#include "core/node/model_repository.h"

#include <algorithm>
#include <chrono>
#include <system_error>

#include "core/models/durable_file.h"
#include "core/models/model_ref.h"
#include "core/regular_file.h"
#include "core/sha256.h"
#include "core/text.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;

// Files of fetches in progress, in the folder itself so that the rename into place is atomic.
constexpr std::string_view kFetchPrefix = ".dim-fetch-";
// Where models fetched by digest ("sha256:<hex>") are kept: not NAME.onnx files, so List()
// shows them by their id, not as names.
constexpr const char* kDigestFolder = ".sha256";

using Kind = ModelCacheEvent::Kind;

ModelCacheEvent Event(Kind kind, std::string model_id, std::string sha256 = {},
                      int64_t size_bytes = 0) {
  ModelCacheEvent event;
  event.kind = kind;
  event.model_id = std::move(model_id);
  event.sha256 = std::move(sha256);
  event.size_bytes = size_bytes;
  return event;
}

ModelCacheEvent Event(Kind kind, std::string model_id, Status status) {
  ModelCacheEvent event = Event(kind, std::move(model_id));
  event.status = std::move(status);
  return event;
}

Result<std::string> ReadBytes(const fs::path& path) {
  auto bytes = ReadRegularFile(path, Model::kMaxFileBytes);
  if (!bytes.ok()) return Status::Unavailable(bytes.status().message());
  return bytes;
}

}  // namespace

ModelRepository::ModelRepository(fs::path dir, Device device, ModelCacheOptions options)
    : dir_(std::move(dir)), device_(device), options_(std::move(options)), index_(dir_) {
  std::lock_guard lock(mu_);
  Status loaded = index_.Load();
  if (!options_.fetcher) return;  // without a fetcher nothing here writes to the folder
  if (!loaded.ok()) EmitLocked(Event(Kind::kWarning, "", loaded));
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.starts_with(kFetchPrefix) && name.ends_with(".tmp")) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
  // The limit may be lower than when the models were fetched.
  EvictLocked({});
  if (index_.size() > 0) SaveIndexLocked(/*durable=*/true);
}

std::string ModelRepository::NowIso() const {
  return FormatIso8601(options_.clock ? options_.clock->Now() : system_clock_.Now());
}

void ModelRepository::EmitLocked(ModelCacheEvent event) const {
  if (options_.on_event) options_.on_event(event);
}

void ModelRepository::SaveIndexLocked(bool durable) {
  if (Status saved = index_.Save(durable); !saved.ok()) {
    EmitLocked(Event(Kind::kWarning, "", saved));
  }
}

Result<std::shared_ptr<const Model>> ModelRepository::Get(const std::string& model_id) {
  // A model evicted (by another task's fetch) between finding and loading it is found
  // again, fetched again if need be.
  for (int attempt = 0;; ++attempt) {
    DIM_ASSIGN_OR_RETURN(Located located, Locate(model_id, /*fetch=*/true));
    auto model = Load(located.path);
    if (model.ok() || model.status().code() != StatusCode::kNotFound || !can_fetch() ||
        attempt == 2) {
      return model;
    }
  }
}

Status ModelRepository::CheckAvailable(const std::string& model_id) {
  DIM_RETURN_IF_ERROR(CheckModelId(model_id));
  std::optional<fs::path> local;
  if (auto sha = Sha256OfModelId(model_id)) {
    {
      std::lock_guard lock(mu_);
      if (const CachedModel* m = index_.FindBySha256(*sha)) local = dir_ / m->file;
    }
    // With a fetcher, hashing the folder's files is left to Get, off the request thread.
    if (!local && !can_fetch()) local = FindFileByDigest(*sha);
  } else {
    const auto path = dir_ / (model_id + ".onnx");
    std::error_code ec;
    if (fs::exists(path, ec)) local = path;
  }
  if (local) {
    auto model = Load(*local);
    if (model.ok() || model.status().code() != StatusCode::kNotFound || !can_fetch()) {
      return model.status();
    }
  }
  if (can_fetch()) return Status::Ok();
  return Locate(model_id, /*fetch=*/false).status();
}

Result<ModelRepository::Located> ModelRepository::Locate(const std::string& requested_id,
                                                         bool fetch) {
  DIM_RETURN_IF_ERROR(CheckModelId(requested_id));
  std::error_code ec;
  if (auto sha = Sha256OfModelId(requested_id)) {
    const std::string id = Sha256ModelId(*sha);  // lowercase
    {
      std::lock_guard lock(mu_);
      if (const CachedModel* m = index_.FindBySha256(*sha)) {
        Located found{dir_ / m->file, m->model_id};
        if (fetch && can_fetch()) {
          ++hits_;
          index_.Touch(m->model_id, NowIso());
          EmitLocked(Event(Kind::kHit, id, *sha, m->size_bytes));
          SaveIndexLocked(/*durable=*/false);
        }
        return found;
      }
    }
    if (auto path = FindFileByDigest(*sha)) {
      if (fetch) {
        std::lock_guard lock(mu_);
        ++hits_;
      }
      return Located{*path, ""};
    }
    if (!fetch || !can_fetch()) {
      return Status::NotFound("model '" + requested_id + "' not found (no model in " +
                              dir_.string() + " has that sha256)");
    }
    return FetchOnce(id);
  }

  const auto path = dir_ / (requested_id + ".onnx");
  if (fs::exists(path, ec)) {
    std::optional<CachedModel> cached;
    {
      std::lock_guard lock(mu_);
      if (const CachedModel* m = index_.Find(requested_id)) cached = *m;
    }
    if (fetch && cached && can_fetch()) {
      // The name may point at other content at the source since it was fetched. When the
      // source cannot say, the copy here serves.
      auto header = options_.fetcher->Resolve(requested_id);
      if (header.ok() && header->sha256 != cached->sha256) {
        {
          std::lock_guard lock(mu_);
          EmitLocked(Event(Kind::kStale, requested_id, header->sha256, header->size_bytes));
        }
        return FetchOnce(requested_id);
      }
      std::lock_guard lock(mu_);
      ++hits_;
      index_.Touch(requested_id, NowIso());
      EmitLocked(Event(Kind::kHit, requested_id, cached->sha256, cached->size_bytes));
      SaveIndexLocked(/*durable=*/false);
    } else if (fetch) {
      std::lock_guard lock(mu_);
      ++hits_;
    }
    return Located{path, cached ? requested_id : ""};
  }
  if (!fetch || !can_fetch()) {
    return Status::NotFound("model '" + requested_id + "' not found (no " + path.string() + ")");
  }
  return FetchOnce(requested_id);
}

std::optional<std::string> ModelRepository::DigestOf(const fs::path& path) {
  std::error_code file_ec;
  const auto mtime = fs::last_write_time(path, file_ec);
  const auto size = fs::file_size(path, file_ec);
  if (file_ec) return std::nullopt;
  {
    std::lock_guard lock(mu_);
    auto memo = digests_.find(path.string());
    if (memo != digests_.end() && memo->second.mtime == mtime && memo->second.size == size) {
      return memo->second.sha256;
    }
  }
  auto hashed = Sha256File(path);  // outside the lock: files may be large
  if (!hashed.ok()) return std::nullopt;
  std::lock_guard lock(mu_);
  digests_[path.string()] = Digest{mtime, size, *hashed};
  return *hashed;
}

std::optional<fs::path> ModelRepository::FindFileByDigest(const std::string& sha256) {
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& path = it->path();
    std::error_code file_ec;
    if (path.extension() != ".onnx" || !it->is_regular_file(file_ec)) continue;
    if (DigestOf(path) == sha256) return path;
  }
  return std::nullopt;
}

Result<std::string> ModelRepository::Sha256(const std::string& model_id) {
  DIM_RETURN_IF_ERROR(CheckModelId(model_id));
  if (auto sha = Sha256OfModelId(model_id)) return Sha256ModelId(*sha).substr(7);
  DIM_ASSIGN_OR_RETURN(Located found, Locate(model_id, /*fetch=*/false));
  auto digest = DigestOf(found.path);
  if (!digest) return Status::NotFound("model '" + model_id + "': its file cannot be read");
  return *digest;
}

Result<ModelRepository::Located> ModelRepository::FetchOnce(const std::string& model_id) {
  std::unique_lock lock(mu_);
  ++misses_;
  auto [it, leader] = flights_.try_emplace(model_id, std::make_shared<Flight>());
  std::shared_ptr<Flight> flight = it->second;
  if (!leader) {
    fetched_cv_.wait(lock, [&] { return flight->done; });
    return *flight->result;
  }
  lock.unlock();
  Result<Located> result = FetchNow(model_id);
  lock.lock();
  flight->done = true;
  flight->result = result;
  flights_.erase(model_id);
  fetched_cv_.notify_all();
  return result;
}

Result<ModelRepository::Located> ModelRepository::FetchNow(const std::string& model_id) {
  ModelFetcher& fetcher = *options_.fetcher;
  const std::string source = fetcher.source();
  const auto start = std::chrono::steady_clock::now();
  const auto fail = [&](Status status) -> Status {
    std::lock_guard lock(mu_);
    ++fetch_failures_;
    EmitLocked(Event(Kind::kFetchFailed, model_id, status));
    return status;
  };
  const std::string what = "model '" + model_id + "' from " + source;

  auto file = TempFile::Create(dir_, kFetchPrefix);
  if (!file.ok()) return fail(file.status().WithPrefix("cannot fetch " + what));
  ModelHeader header;
  bool announced = false;
  Sha256Hasher hasher;
  const Status fetched = fetcher.Fetch(
      model_id,
      [&](const ModelHeader& h) -> Status {
        header = h;
        announced = true;
        if (!IsSha256Hex(header.sha256)) {
          return Status::Internal("the source announced no valid sha256 ('" + header.sha256 + "')");
        }
        if (options_.max_bytes > 0 && header.size_bytes > options_.max_bytes) {
          return Status::ResourceExhausted("it has " + std::to_string(header.size_bytes) +
                                           " bytes, more than this daemon's --cache-max-bytes " +
                                           std::to_string(options_.max_bytes));
        }
        return Status::Ok();
      },
      [&](std::string_view bytes) -> Status {
        if (!announced) return Status::Internal("the source sent bytes before announcing them");
        if (file->size() + static_cast<int64_t>(bytes.size()) > header.size_bytes) {
          return Status(StatusCode::kDataLoss, "the source sent more than the " +
                                                   std::to_string(header.size_bytes) +
                                                   " bytes it announced");
        }
        hasher.Update(bytes);
        return file->Append(bytes);
      });
  if (!fetched.ok()) return fail(fetched.WithPrefix("cannot fetch " + what));
  if (!announced) return fail(Status::Internal("cannot fetch " + what + ": nothing was sent"));
  if (file->size() != header.size_bytes) {
    return fail(Status(StatusCode::kDataLoss,
                       what + ": got " + std::to_string(file->size()) + " bytes, expected " +
                           std::to_string(header.size_bytes) + "; nothing was kept"));
  }
  const std::string got = hasher.HexDigest();
  if (got != header.sha256) {
    return fail(Status(StatusCode::kDataLoss, what + " has sha256 " + got + ", expected " +
                                                  header.sha256 + "; nothing was kept"));
  }
  const auto wanted = Sha256OfModelId(model_id);
  if (wanted && got != *wanted) {
    return fail(Status(StatusCode::kDataLoss,
                       what + " has sha256 " + got + ", not the one asked for; nothing was kept"));
  }
  // Only a model that loads enters the cache.
  auto bytes = ReadBytes(file->path());
  if (!bytes.ok()) return fail(bytes.status().WithPrefix("cannot fetch " + what));
  auto model = Model::LoadBytes(*bytes, model_id, device_);
  if (!model.ok()) return fail(model.status().WithPrefix("fetched from " + source));

  const std::string relative =
      wanted ? std::string(kDigestFolder) + "/" + *wanted + ".onnx" : model_id + ".onnx";
  const fs::path target = dir_ / relative;
  std::error_code ec;
  if (wanted) fs::create_directories(dir_ / kDigestFolder, ec);
  if (Status placed = file->RenameTo(target); !placed.ok()) {
    return fail(placed.WithPrefix("cannot keep " + what));
  }
  const auto mtime = fs::last_write_time(target, ec);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::lock_guard lock(mu_);
  const std::string now = NowIso();
  CachedModel cached;
  cached.model_id = model_id;
  cached.file = relative;
  cached.sha256 = got;
  cached.size_bytes = header.size_bytes;
  cached.fetched_at = now;
  cached.last_used = now;
  index_.Put(std::move(cached));
  if (!ec) loaded_[target.string()] = Loaded{mtime, *model};
  ModelCacheEvent fetched_event = Event(Kind::kFetched, model_id, got, header.size_bytes);
  fetched_event.seconds = seconds;
  EmitLocked(std::move(fetched_event));
  EvictLocked({model_id});
  SaveIndexLocked(/*durable=*/true);
  return Located{target, model_id};
}

void ModelRepository::EvictLocked(const std::set<std::string>& keep) {
  if (options_.max_bytes <= 0) return;
  std::set<std::string> protect = keep;
  for (const auto& [id, flight] : flights_) protect.insert(id);
  while (index_.total_bytes() > options_.max_bytes) {
    const CachedModel* oldest = index_.LeastRecentlyUsed(protect);
    if (oldest == nullptr) break;
    const CachedModel victim = *oldest;
    const fs::path path = dir_ / victim.file;
    std::error_code ignored;
    fs::remove(path, ignored);
    loaded_.erase(path.string());
    index_.Remove(victim.model_id);
    ++evictions_;
    EmitLocked(Event(Kind::kEvicted, victim.model_id, victim.sha256, victim.size_bytes));
  }
}

Result<std::shared_ptr<const Model>> ModelRepository::Load(const fs::path& path) {
  std::error_code ec;
  const auto mtime = fs::last_write_time(path, ec);
  if (ec) return Status::NotFound("model file " + path.string() + " not found");
  const std::string key = path.string();
  {
    std::lock_guard lock(mu_);
    auto it = loaded_.find(key);
    if (it != loaded_.end() && it->second.mtime == mtime) return it->second.model;
  }
  // Load outside the lock: a big model must not stall tasks that use other models.
  auto model = Model::LoadFile(path, device_);
  if (!model.ok()) return model.status();
  std::lock_guard lock(mu_);
  loaded_[key] = Loaded{mtime, *model};
  return *model;
}

std::vector<std::string> ModelRepository::List() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    const auto& p = it->path();
    std::error_code file_ec;
    // A file name that is not UTF-8 names no model a job could ask for.
    if (p.extension() == ".onnx" && it->is_regular_file(file_ec) &&
        IsValidUtf8(p.stem().string())) {
      ids.push_back(p.stem().string());
    }
  }
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> by_digest;
  {
    std::lock_guard lock(mu_);
    for (const auto& m : index_.entries()) {
      std::error_code file_ec;
      if (Sha256OfModelId(m.model_id) && fs::is_regular_file(dir_ / m.file, file_ec)) {
        by_digest.push_back(m.model_id);
      }
    }
  }
  std::sort(by_digest.begin(), by_digest.end());
  ids.insert(ids.end(), by_digest.begin(), by_digest.end());
  return ids;
}

ModelCacheStats ModelRepository::Stats() const {
  ModelCacheStats stats;
  for (const auto& id : List()) {
    fs::path path = dir_ / (id + ".onnx");
    if (auto sha = Sha256OfModelId(id)) path = dir_ / kDigestFolder / (*sha + ".onnx");
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) continue;
    ++stats.models;
    stats.total_bytes += static_cast<int64_t>(size);
  }
  std::lock_guard lock(mu_);
  stats.fetched_models = static_cast<int64_t>(index_.size());
  stats.fetched_bytes = index_.total_bytes();
  stats.max_bytes = options_.max_bytes;
  stats.hits = hits_;
  stats.misses = misses_;
  stats.evictions = evictions_;
  stats.fetch_failures = fetch_failures_;
  return stats;
}

}  // namespace dim::core
