#include "net/grpc_status.h"

namespace dim::net {

grpc::Status ToGrpc(const core::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return {static_cast<grpc::StatusCode>(status.code()), status.message()};
}

core::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return core::Status::Ok();
  return {static_cast<core::StatusCode>(status.error_code()), status.error_message()};
}

void FillError(const core::Status& status, dim::common::Error* error) {
  error->set_code(std::string(core::StatusCodeName(status.code())));
  error->set_message(status.message());
}

}  // namespace dim::net
