#include "net/model_store_rpcs.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include "core/models/model_ref.h"
#include "core/sha256.h"
#include "core/text.h"
#include "net/grpc_status.h"

namespace dim::net {
namespace {

namespace pb = dim::orchestrator;

grpc::Status NoStore() {
  return {grpc::StatusCode::UNIMPLEMENTED, "this orchestrator has no model store"};
}

void ToProto(const core::StoredModel& m, pb::ModelInfo* out) {
  out->set_name(m.name);
  out->set_sha256(m.sha256);
  out->set_size_bytes(m.size_bytes);
  out->set_pushed_at(m.pushed_at);
}

// One PushModel call. Each message is handled on the pool, then the next one is read.
class PushReactor final : public grpc::ServerReadReactor<pb::PushModelRequest> {
 public:
  PushReactor(grpc::CallbackServerContext* ctx, core::ModelStore* store, ModelStoreRpcs& rpcs,
              pb::PushModelResponse* resp, ModelStoreRpcs::PushEnded on_end)
      : ctx_(ctx), store_(store), rpcs_(rpcs), resp_(resp), on_end_(std::move(on_end)) {
    if (store_ == nullptr) {
      Finish(NoStore());
      return;
    }
    StartRead(&req_);
  }

  void OnReadDone(bool ok) override {
    // !ok: the client has sent everything (or is gone, see cancelled_).
    rpcs_.Post([this, ok] { ok ? Take() : Commit(); });
  }
  void OnCancel() override { cancelled_ = true; }
  void OnDone() override { delete this; }

 private:
  void Take() {
    if (!upload_) {
      if (req_.name().empty()) {
        return Fail(core::Status::InvalidArgument(
            "name: the first message of PushModel must name the model"));
      }
      auto upload = store_->BeginUpload(req_.name());
      if (!upload.ok()) return Fail(upload.status());
      upload_ = std::move(*upload);
    } else if (!req_.name().empty() && req_.name() != upload_->name()) {
      return Fail(core::Status::InvalidArgument("name: the push of model '" + upload_->name() +
                                                "' went on as '" + req_.name() + "'"));
    }
    if (!req_.sha256().empty()) {
      // A digest that is not one is the client's mistake, not data lost on the way.
      if (!core::IsSha256Hex(req_.sha256())) {
        return Fail(
            core::Status::InvalidArgument("sha256: expected 64 lower-case hex digits, got '" +
                                          core::Snippet(req_.sha256()) + "'"));
      }
      expected_sha256_ = req_.sha256();
    }
    if (core::Status s = upload_->Append(req_.data()); !s.ok()) return Fail(s);
    StartRead(&req_);
  }

  void Commit() {
    // A client that went away mid-push must not leave the first part of a file stored.
    if (cancelled_ || ctx_->IsCancelled()) {
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the push was cancelled"));
      return;
    }
    if (!upload_) return Fail(core::Status::InvalidArgument("PushModel: no message was sent"));
    auto stored = upload_->Commit(expected_sha256_);
    if (!stored.ok()) return Fail(stored.status());
    spdlog::info("model '{}' pushed: sha256:{}, {} bytes", stored->name, stored->sha256,
                 stored->size_bytes);
    resp_->set_name(stored->name);
    resp_->set_sha256(stored->sha256);
    resp_->set_size_bytes(stored->size_bytes);
    resp_->set_pushed_at(stored->pushed_at);
    if (on_end_) on_end_(stored->name, core::Status::Ok());
    Finish(grpc::Status::OK);
  }

  void Fail(const core::Status& status) {
    spdlog::info("model push refused: {}", status.ToString());
    FillError(status, resp_->mutable_error());
    if (on_end_) on_end_(upload_ ? upload_->name() : req_.name(), status);
    Finish(ToGrpc(status));
  }

  grpc::CallbackServerContext* ctx_;
  core::ModelStore* store_;
  ModelStoreRpcs& rpcs_;
  pb::PushModelResponse* resp_;
  pb::PushModelRequest req_;
  std::unique_ptr<core::ModelStore::Upload> upload_;
  std::string expected_sha256_;
  std::atomic<bool> cancelled_{false};
  ModelStoreRpcs::PushEnded on_end_;
};

// One FetchModel call. Each chunk is read on the pool, then written.
class FetchReactor final : public grpc::ServerWriteReactor<pb::ModelChunk> {
 public:
  FetchReactor(core::ModelStore* store, ModelStoreRpcs& rpcs, std::string model_id,
               std::string peer)
      : store_(store), rpcs_(rpcs), peer_(std::move(peer)) {
    if (store_ == nullptr) {
      Finish(NoStore());
      return;
    }
    rpcs_.Post([this, id = std::move(model_id)] { Open(id); });
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {  // the daemon is gone
      Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the fetch was cancelled"));
      return;
    }
    rpcs_.Post([this] { WriteNext(); });
  }
  void OnDone() override { delete this; }

 private:
  void Open(const std::string& model_id) {
    auto found = store_->Find(model_id);
    if (!found.ok()) {
      spdlog::info("model fetch of '{}' refused: {}", model_id, found.status().ToString());
      Finish(ToGrpc(found.status()));
      return;
    }
    in_.open(store_->BlobPath(found->sha256), std::ios::binary);
    if (!in_) {
      Finish(ToGrpc(core::Status::Unavailable("model '" + model_id +
                                              "': the model store cannot read its file")));
      return;
    }
    spdlog::info("model '{}' (sha256:{}, {} bytes) sent to {}", model_id, found->sha256,
                 found->size_bytes, peer_);
    chunk_.set_name(found->name);
    chunk_.set_sha256(found->sha256);
    chunk_.set_size_bytes(found->size_bytes);
    first_ = true;
    WriteNext();
  }

  void WriteNext() {
    std::string* data = chunk_.mutable_data();
    data->resize(kModelChunkBytes);
    in_.read(data->data(), static_cast<std::streamsize>(data->size()));
    data->resize(static_cast<size_t>(in_.gcount()));
    if (in_.bad()) {
      Finish(ToGrpc(core::Status::Unavailable("the model store cannot read the model's file")));
      return;
    }
    if (data->empty() && !first_) {
      Finish(grpc::Status::OK);
      return;
    }
    if (!first_) {
      chunk_.clear_name();
      chunk_.clear_sha256();
      chunk_.clear_size_bytes();
    }
    first_ = false;
    StartWrite(&chunk_);
  }

  core::ModelStore* store_;
  ModelStoreRpcs& rpcs_;
  std::string peer_;
  std::ifstream in_;
  pb::ModelChunk chunk_;
  bool first_ = true;
};

}  // namespace

ModelStoreRpcs::ModelStoreRpcs(core::ModelStore* store, int threads) : store_(store) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    workers_.emplace_back([this] { WorkerLoop(); });
  }
}

ModelStoreRpcs::~ModelStoreRpcs() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ModelStoreRpcs::Post(std::function<void()> work) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(work));
  }
  cv_.notify_one();
}

void ModelStoreRpcs::WorkerLoop() {
  for (;;) {
    std::function<void()> work;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to finish
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    work();
  }
}

grpc::ServerReadReactor<pb::PushModelRequest>* ModelStoreRpcs::Push(
    grpc::CallbackServerContext* ctx, pb::PushModelResponse* resp, PushEnded on_end) {
  return new PushReactor(ctx, store_, *this, resp, std::move(on_end));
}

grpc::ServerWriteReactor<pb::ModelChunk>* ModelStoreRpcs::Fetch(grpc::CallbackServerContext* ctx,
                                                                const pb::FetchModelRequest* req) {
  return new FetchReactor(store_, *this, req->model_id(), ctx->peer());
}

grpc::ServerUnaryReactor* ModelStoreRpcs::List(grpc::CallbackServerContext* ctx,
                                               const pb::ListModelsRequest* req,
                                               pb::ListModelsResponse* resp) {
  if (store_ == nullptr) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(NoStore());
    return reactor;
  }
  // The store's index is in memory: no disk work here.
  if (req->model_id().empty()) {
    for (const auto& m : store_->List()) ToProto(m, resp->add_models());
    return FinishUnary(ctx, core::Status::Ok());
  }
  auto found = store_->Find(req->model_id());
  if (found.ok()) {
    ToProto(*found, resp->add_models());
  } else if (found.status().code() != core::StatusCode::kNotFound) {
    return FinishUnary(ctx, found.status());
  }
  return FinishUnary(ctx, core::Status::Ok());
}

}  // namespace dim::net
