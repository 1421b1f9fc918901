// The Orchestrator service's model calls (PushModel, ListModels, FetchModel) over the model
// store. OrchestratorService hands these calls to one ModelStoreRpcs.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/models/model_store.h"
#include "orchestrator.grpc.pb.h"

namespace dim::net {

// Bytes per FetchModel message (gRPC's default message limit is 4 MiB).
inline constexpr size_t kModelChunkBytes = 1 << 20;

// PushModel: the first message names the model; the bytes go to the store as they come,
// and when the client has sent everything the store checks the model (it must load, as a
// daemon would load it) and acknowledges name, sha256, size and push time. Errors, also
// in the response's Error: INVALID_ARGUMENT (no name, a name that is not plain, a name
// that changes mid-stream, no bytes, a file dim's loader refuses: its message),
// RESOURCE_EXHAUSTED (past --max-model-bytes), DATA_LOSS (the client's sha256 differs).
// ListModels: the named models, or the one model_id names (none when the store has not
// got it). FetchModel: NOT_FOUND naming the id; otherwise the content in 1 MiB messages,
// the first with name, sha256 and size_bytes.
// With no store (null), every call fails with UNIMPLEMENTED.
//
// Thread-safety: gRPC calls these from its threads. Disk work (writing, reading, checking a
// model) runs on this object's own threads, never in a reaction. The destructor finishes the
// work queued and joins them, so the server must be shut down first.
class ModelStoreRpcs final {
 public:
  explicit ModelStoreRpcs(core::ModelStore* store, int threads = 2);
  ~ModelStoreRpcs();
  ModelStoreRpcs(const ModelStoreRpcs&) = delete;
  ModelStoreRpcs& operator=(const ModelStoreRpcs&) = delete;

  // Told the model's name and the push's outcome (not for a push the client cancelled).
  using PushEnded = std::function<void(const std::string& name, const core::Status& outcome)>;
  grpc::ServerReadReactor<dim::orchestrator::PushModelRequest>* Push(
      grpc::CallbackServerContext* ctx, dim::orchestrator::PushModelResponse* resp,
      PushEnded on_end = {});
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* ctx,
                                 const dim::orchestrator::ListModelsRequest* req,
                                 dim::orchestrator::ListModelsResponse* resp);
  grpc::ServerWriteReactor<dim::orchestrator::ModelChunk>* Fetch(
      grpc::CallbackServerContext* ctx, const dim::orchestrator::FetchModelRequest* req);

  // Runs `work` on one of this object's threads.
  void Post(std::function<void()> work);

 private:
  void WorkerLoop();

  core::ModelStore* store_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> workers_;
};

}  // namespace dim::net
