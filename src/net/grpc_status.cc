#include "net/grpc_status.h"

#include <grpcpp/server_context.h>

namespace dim::net {

grpc::Status ToGrpc(const core::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return {static_cast<grpc::StatusCode>(status.code()), status.message()};
}

core::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return core::Status::Ok();
  return {static_cast<core::StatusCode>(status.error_code()), status.error_message()};
}

grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                      const core::Status& status) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(status));
  return reactor;
}

void FillError(const core::Status& status, dim::common::Error* error) {
  error->set_code(std::string(core::StatusCodeName(status.code())));
  error->set_message(status.message());
}

}  // namespace dim::net
