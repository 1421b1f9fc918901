// A core::ModelFetcher over models held in memory, for the tests of the model cache. It can
// be told to lie about a model's content (announce one sha256, send other bytes), to fail,
// or to hold a fetch until the test lets it go.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>

#include "core/models/model_fetcher.h"
#include "core/models/model_ref.h"
#include "core/sha256.h"

namespace dim::testing {

class FakeModelFetcher final : public core::ModelFetcher {
 public:
  // Serves `bytes` as model `name`, and as "sha256:<its digest>".
  void Add(const std::string& name, const std::string& bytes) {
    std::lock_guard lock(mu_);
    models_[name] = bytes;
  }
  // From now on, model `name` is announced with the digest of its bytes but sent with its
  // first byte changed.
  void Corrupt(const std::string& name) {
    std::lock_guard lock(mu_);
    corrupt_[name] = true;
  }
  // Fetches fail with `status` (OK: they work again).
  void FailWith(core::Status status) {
    std::lock_guard lock(mu_);
    fail_ = std::move(status);
  }
  // Fetches wait in the middle of the transfer until Release().
  void Hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    cv_.notify_all();
  }
  // Fetches waiting for Release().
  int waiting() const { return waiting_; }
  int fetches() const { return fetches_; }
  int resolves() const { return resolves_; }

  std::string source() const override { return "fake store"; }

  core::Result<core::ModelHeader> Resolve(const std::string& model_id) override {
    ++resolves_;
    std::lock_guard lock(mu_);
    if (!fail_.ok()) return fail_;
    const std::string* bytes = FindLocked(model_id);
    if (bytes == nullptr)
      return core::Status::NotFound("model '" + model_id + "' not in the fake store");
    return core::ModelHeader{model_id, core::Sha256Hex(*bytes),
                             static_cast<int64_t>(bytes->size())};
  }

  core::Status Fetch(const std::string& model_id,
                     const std::function<core::Status(const core::ModelHeader&)>& on_header,
                     const std::function<core::Status(std::string_view)>& on_data) override {
    ++fetches_;
    std::string bytes;
    bool corrupt = false;
    {
      std::lock_guard lock(mu_);
      if (!fail_.ok()) return fail_;
      const std::string* found = FindLocked(model_id);
      if (found == nullptr) {
        return core::Status::NotFound("model '" + model_id + "' not in the fake store");
      }
      bytes = *found;
      corrupt = corrupt_.count(model_id) > 0;
    }
    DIM_RETURN_IF_ERROR(on_header(
        core::ModelHeader{model_id, core::Sha256Hex(bytes), static_cast<int64_t>(bytes.size())}));
    if (corrupt) bytes[0] = static_cast<char>(bytes[0] ^ 0x5a);
    const size_t half = bytes.size() / 2;
    DIM_RETURN_IF_ERROR(on_data(std::string_view(bytes).substr(0, half)));
    {
      std::unique_lock lock(mu_);
      ++waiting_;
      cv_.wait(lock, [&] { return !held_; });
      --waiting_;
    }
    return on_data(std::string_view(bytes).substr(half));
  }

 private:
  const std::string* FindLocked(const std::string& model_id) const {
    if (auto sha = core::Sha256OfModelId(model_id)) {
      for (const auto& [name, bytes] : models_) {
        if (core::Sha256Hex(bytes) == *sha) return &bytes;
      }
      return nullptr;
    }
    auto it = models_.find(model_id);
    return it == models_.end() ? nullptr : &it->second;
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> models_;
  std::map<std::string, bool> corrupt_;
  core::Status fail_;
  bool held_ = false;
  std::atomic<int> waiting_{0};
  std::atomic<int> fetches_{0};
  std::atomic<int> resolves_{0};
};

}  // namespace dim::testing
