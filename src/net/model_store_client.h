// The orchestrator's model store, from a client: `dim model push | ls` (Push, List), and a
// daemon's fetches of models it lacks (core::ModelFetcher).
#pragma once

#include <grpcpp/channel.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/models/model_fetcher.h"
#include "core/models/model_store.h"
#include "net/security.h"
#include "orchestrator.grpc.pb.h"

namespace dim::net {

struct ModelStoreClientOptions {
  // Deadline of ListModels, and of PushModel besides the time its bytes take (below).
  std::chrono::milliseconds rpc_timeout{10000};
  // A PushModel call may take rpc_timeout plus this long per MiB of the file.
  std::chrono::milliseconds push_time_per_mib{1000};
  // Deadline of a whole FetchModel stream.
  std::chrono::milliseconds fetch_timeout{600000};
  // TLS and token towards the orchestrator.
  ClientSecurity security;
};

// Thread-safe. Failures to reach the orchestrator are UNAVAILABLE "cannot reach the
// orchestrator at ADDR: ..."; other errors are the orchestrator's (see ModelStoreRpcs).
class ModelStoreClient final : public core::ModelFetcher {
 public:
  // `address`: the orchestrator's HOST:PORT, dialled at once (without blocking).
  explicit ModelStoreClient(std::string address, ModelStoreClientOptions options = {});

  std::string source() const override { return "orchestrator " + address_; }
  core::Result<core::ModelHeader> Resolve(const std::string& model_id) override;
  core::Status Fetch(const std::string& model_id,
                     const std::function<core::Status(const core::ModelHeader&)>& on_header,
                     const std::function<core::Status(std::string_view)>& on_data) override;

  // Streams the file in 1 MiB messages, with its sha256, as model `name`. INVALID_ARGUMENT
  // when the file cannot be read; the orchestrator's errors otherwise.
  core::Result<core::StoredModel> Push(const std::string& name, const std::filesystem::path& file);
  // The named models, sorted by name.
  core::Result<std::vector<core::StoredModel>> List();

 private:
  core::Status Check(const grpc::Status& status) const;

  std::string address_;
  ModelStoreClientOptions options_;
  std::unique_ptr<dim::orchestrator::Orchestrator::Stub> stub_;
};

}  // namespace dim::net
