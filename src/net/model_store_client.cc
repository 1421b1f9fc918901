#include "net/model_store_client.h"

#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <cstdio>
#include <system_error>

#include "core/regular_file.h"
#include "core/sha256.h"
#include "net/grpc_status.h"
#include "net/model_store_rpcs.h"

namespace dim::net {
namespace {

namespace pb = dim::orchestrator;

core::StoredModel FromProto(const pb::ModelInfo& m) {
  return core::StoredModel{m.name(), m.sha256(), m.size_bytes(), m.pushed_at()};
}

std::chrono::system_clock::time_point After(std::chrono::milliseconds d) {
  return std::chrono::system_clock::now() + d;
}

}  // namespace

ModelStoreClient::ModelStoreClient(std::string address, ModelStoreClientOptions options)
    : address_(std::move(address)),
      options_(options),
      stub_(pb::Orchestrator::NewStub(options_.security.Dial(address_))) {}

core::Status ModelStoreClient::Check(const grpc::Status& status) const {
  return FromOrchestrator(status, address_, ConnectionHint(status, options_.security));
}

core::Result<core::ModelHeader> ModelStoreClient::Resolve(const std::string& model_id) {
  grpc::ClientContext ctx;
  options_.security.Authorize(ctx);
  ctx.set_deadline(After(options_.rpc_timeout));
  pb::ListModelsRequest req;
  req.set_model_id(model_id);
  pb::ListModelsResponse resp;
  DIM_RETURN_IF_ERROR(Check(stub_->ListModels(&ctx, req, &resp)));
  if (resp.models().empty()) {
    return core::Status::NotFound("model '" + model_id + "' not found in the model store of " +
                                  source());
  }
  const auto& m = resp.models(0);
  return core::ModelHeader{m.name(), m.sha256(), m.size_bytes()};
}

core::Status ModelStoreClient::Fetch(
    const std::string& model_id,
    const std::function<core::Status(const core::ModelHeader&)>& on_header,
    const std::function<core::Status(std::string_view)>& on_data) {
  grpc::ClientContext ctx;
  options_.security.Authorize(ctx);
  ctx.set_deadline(After(options_.fetch_timeout));
  pb::FetchModelRequest req;
  req.set_model_id(model_id);
  std::unique_ptr<grpc::ClientReader<pb::ModelChunk>> reader = stub_->FetchModel(&ctx, req);
  pb::ModelChunk chunk;
  core::Status stopped;  // a callback's error
  bool first = true;
  while (stopped.ok() && reader->Read(&chunk)) {
    if (first) {
      stopped = on_header(core::ModelHeader{chunk.name(), chunk.sha256(), chunk.size_bytes()});
      first = false;
    }
    if (stopped.ok()) stopped = on_data(chunk.data());
  }
  if (!stopped.ok()) {
    ctx.TryCancel();
    (void)reader->Finish();
    return stopped;
  }
  DIM_RETURN_IF_ERROR(Check(reader->Finish()));
  if (first) {
    return core::Status::Internal(source() + " ended the fetch of '" + model_id +
                                  "' without sending anything");
  }
  return core::Status::Ok();
}

core::Result<core::StoredModel> ModelStoreClient::Push(const std::string& name,
                                                       const std::filesystem::path& file) {
  auto opened = core::OpenRegularFile(file);
  if (!opened.ok()) {
    // Whatever the reason (missing, a FIFO, no rights), it is the user's file to fix.
    return core::Status::InvalidArgument(opened.status().message());
  }
  core::FilePtr in = std::move(*opened);
  struct stat st {};
  const auto size = ::fstat(::fileno(in.get()), &st) == 0 ? static_cast<uintmax_t>(st.st_size) : 0;
  grpc::ClientContext ctx;
  options_.security.Authorize(ctx);
  ctx.set_deadline(
      After(options_.rpc_timeout + options_.push_time_per_mib * static_cast<int64_t>(size >> 20)));
  pb::PushModelResponse resp;
  std::unique_ptr<grpc::ClientWriter<pb::PushModelRequest>> writer = stub_->PushModel(&ctx, &resp);
  pb::PushModelRequest msg;
  msg.set_name(name);
  core::Sha256Hasher hasher;
  std::string* data = msg.mutable_data();
  bool sent_all = true;
  for (;;) {
    data->resize(kModelChunkBytes);
    data->resize(std::fread(data->data(), 1, data->size(), in.get()));
    if (std::ferror(in.get()) != 0) {
      ctx.TryCancel();
      (void)writer->Finish();
      return core::Status::InvalidArgument(file.string() + ": cannot read the file");
    }
    hasher.Update(*data);
    if (std::feof(in.get()) != 0) msg.set_sha256(hasher.HexDigest());  // the last message
    // A failed write means the call has ended: Finish says why.
    if (!writer->Write(msg)) {
      sent_all = false;
      break;
    }
    if (std::feof(in.get()) != 0) break;
    msg.clear_name();
  }
  if (sent_all) writer->WritesDone();
  DIM_RETURN_IF_ERROR(Check(writer->Finish()));
  return core::StoredModel{resp.name(), resp.sha256(), resp.size_bytes(), resp.pushed_at()};
}

core::Result<std::vector<core::StoredModel>> ModelStoreClient::List() {
  grpc::ClientContext ctx;
  options_.security.Authorize(ctx);
  ctx.set_deadline(After(options_.rpc_timeout));
  pb::ListModelsResponse resp;
  DIM_RETURN_IF_ERROR(Check(stub_->ListModels(&ctx, pb::ListModelsRequest{}, &resp)));
  std::vector<core::StoredModel> out;
  for (const auto& m : resp.models()) out.push_back(FromProto(m));
  return out;
}

}  // namespace dim::net
