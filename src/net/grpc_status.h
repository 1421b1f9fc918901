// core::Status <-> grpc::Status. The codes are numbered alike, so this is a cast.
#pragma once

#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <memory>
#include <string>

#include "common.pb.h"
#include "core/status.h"

namespace dim::net {

grpc::Status ToGrpc(const core::Status& status);
core::Status FromGrpc(const grpc::Status& status);
// FromGrpc for a call to the orchestrator at `address`: UNAVAILABLE "cannot reach the
// orchestrator at ADDR (REASON)" when it cannot be reached, REASON being `hint` when one is
// given (ConnectionHint) and UnreachableReason otherwise, with "; is it running?" after a
// refused connection; and UNAVAILABLE "ADDR answers, but is not a dim orchestrator ..." for
// gRPC's own UNIMPLEMENTED, which has no message (a daemon's address given as the server).
core::Status FromOrchestrator(const grpc::Status& status, const std::string& address,
                              const std::string& hint = {});
// Why a server could not be reached, in a few words, from gRPC's message for it: "connection
// refused", "the host name does not resolve", "TLS handshake failed: certificate verify
// failed", ...; else gRPC's message without its repeated prefixes ("failed to connect to all
// addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: ").
std::string UnreachableReason(const std::string& grpc_message);
// Fills the seed protocol's Error{code, message} from a failed status.
void FillError(const core::Status& status, dim::common::Error* error);

// Finishes a unary callback RPC with `status` and returns its reactor.
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* ctx,
                                      const core::Status& status);

// A streaming call refused before it starts: finishes at once with `status`.
template <typename Request>
grpc::ServerReadReactor<Request>* RefuseRead(const core::Status& status) {
  class Refused final : public grpc::ServerReadReactor<Request> {
   public:
    explicit Refused(const core::Status& s) { this->Finish(ToGrpc(s)); }
    void OnDone() override { delete this; }
  };
  return new Refused(status);
}
template <typename Response>
grpc::ServerWriteReactor<Response>* RefuseWrite(const core::Status& status) {
  class Refused final : public grpc::ServerWriteReactor<Response> {
   public:
    explicit Refused(const core::Status& s) { this->Finish(ToGrpc(s)); }
    void OnDone() override { delete this; }
  };
  return new Refused(status);
}

// Default deadline for a unary call made by dim.
inline constexpr std::chrono::seconds kRpcDeadline{10};

}  // namespace dim::net
