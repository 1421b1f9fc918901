#include "net/grpc_status.h"

#include <grpcpp/server_context.h>

#include "core/text.h"

namespace dim::net {

grpc::Status ToGrpc(const core::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // Capped: gRPC carries the message in a header, and a reply whose headers pass the peer's
  // limit reaches it as RESOURCE_EXHAUSTED instead of the error it was.
  return {static_cast<grpc::StatusCode>(status.code()), core::SafeMessage(status.message())};
}

core::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return core::Status::Ok();
  // A peer's words: core::Status makes them valid UTF-8; they are capped here.
  return {static_cast<core::StatusCode>(status.error_code()),
          core::SafeMessage(status.error_message())};
}

core::Status FromOrchestrator(const grpc::Status& status, const std::string& address) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return core::Status::Unavailable("cannot reach the orchestrator at " + address + ": " +
                                     core::SafeMessage(status.error_message()));
  }
  // gRPC's own answer for a method the server does not have: no words. (An orchestrator that
  // lacks a feature says which.)
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED && status.error_message().empty()) {
    return core::Status::Unavailable(address +
                                     " answers, but is not a dim orchestrator (it does not serve "
                                     "this call; a daemon's address?)");
  }
  return FromGrpc(status);
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                      const core::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

void FillError(const core::Status& status, dim::common::Error* error) {
  error->set_code(std::string(core::StatusCodeName(status.code())));
  error->set_message(core::SafeMessage(status.message()));
}

}  // namespace dim::net
