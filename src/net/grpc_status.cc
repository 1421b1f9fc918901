#include "net/grpc_status.h"

#include <grpcpp/server_context.h>

#include <algorithm>
#include <cctype>

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

std::string UnreachableReason(const std::string& grpc_message) {
  const std::string lower = core::AsciiLower(grpc_message);
  const auto has = [&lower](const char* part) { return lower.find(part) != std::string::npos; };
  if (has("connection refused")) return "connection refused";
  if (has("dns resolution failed") || has("domain name not found")) {
    return "the host name does not resolve";
  }
  if (has("handshake failed")) {
    // "... Ssl handshake failed: SSL_ERROR_SSL: error:0A000086:SSL routines::certificate
    // verify failed": OpenSSL's words come last.
    const auto colon = grpc_message.rfind(':');
    std::string why = colon == std::string::npos ? std::string() : grpc_message.substr(colon + 1);
    while (!why.empty() && why.front() == ' ') why.erase(0, 1);
    if (why.empty()) return "TLS handshake failed";
    std::string reason = "TLS handshake failed: " + why;
    if (has("wrong version number")) reason += ": does the server serve TLS?";
    if (has("certificate verify failed")) {
      reason +=
          ": the server's certificate is not from --tls-ca, or does not name the address "
          "dialled";
    }
    return reason;
  }
  if (has("deadline exceeded")) return "no answer before the deadline";
  if (has("socket closed") || has("connection reset")) return "the server closed the connection";
  if (has("no route to host")) return "no route to host";
  if (has("network is unreachable")) return "network is unreachable";
  if (has("connection timed out") || has("timed out")) return "connection timed out";
  // Else gRPC's own words, without the prefixes it repeats.
  std::string rest = grpc_message;
  const auto drop = [&rest](const std::string& prefix) {
    if (rest.compare(0, prefix.size(), prefix) == 0) rest.erase(0, prefix.size());
  };
  drop("failed to connect to all addresses; last error: ");
  for (const char* code : {"UNKNOWN: ", "UNAVAILABLE: ", "INTERNAL: "}) drop(code);
  if (rest.rfind("ipv4:", 0) == 0 || rest.rfind("ipv6:", 0) == 0 || rest.rfind("unix:", 0) == 0) {
    // "ipv4:127.0.0.1:1: why", "ipv6:[::1]:1: why"
    if (const auto end = rest.find(": "); end != std::string::npos) rest.erase(0, end + 2);
  }
  if (rest.empty() || rest == "OK") return "it does not answer as a gRPC server";
  return core::SafeMessage(rest);
}

core::Status FromOrchestrator(const grpc::Status& status, const std::string& address,
                              const std::string& hint) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    const std::string reason = hint.empty() ? UnreachableReason(status.error_message()) : hint;
    return core::Status::Unavailable("cannot reach the orchestrator at " + address + " (" + reason +
                                     ")" +
                                     (reason == "connection refused" ? "; is it running?" : ""));
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
