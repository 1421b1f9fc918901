// TLS and credentials for dim's gRPC servers and clients, and who a caller is (SPEC
// section 6): a verified client certificate (CN = name, OU = role), or a bearer token in the
// `authorization` metadata.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/security/identity.h"
#include "core/status.h"

namespace dim::net {

// What a client presents: a TLS channel that verifies the server (or plaintext), its own
// certificate (mutual TLS), and a bearer token. Copyable; thread-safe.
class ClientSecurity final {
 public:
  ClientSecurity() = default;  // plaintext, no token

  // `ca`: the CA file that verifies the server (empty: plaintext). `cert`/`key`: this
  // client's own certificate and key (both or neither; only with `ca`). `token`: sent as
  // "authorization: Bearer TOKEN" on every call (empty: none). `flags` names the options in
  // errors ("--tls" gives "--tls-ca FILE: ..."). Checks that the files are PEM, that the key
  // is the certificate's and that the certificate has not expired.
  static core::Result<ClientSecurity> Load(const std::string& ca, const std::string& cert,
                                           const std::string& key, std::string token,
                                           const std::string& flags = "--tls");

  std::shared_ptr<grpc::Channel> Dial(const std::string& address,
                                      const grpc::ChannelArguments& args = {}) const;
  // Adds the bearer token (if any) to a call.
  void Authorize(grpc::ClientContext& ctx) const;
  // "authorization" metadata value ("" when there is no token).
  const std::string& authorization() const { return authorization_; }
  bool tls() const { return tls_; }

 private:
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string authorization_;
  bool tls_ = false;
};

// Why a connection failed, when TLS explains it: a server that closes the socket at once
// either serves TLS to a plaintext client, or refused this client's certificate in the
// handshake ("the server closed the connection: if it serves TLS, give --tls-ca ..."). ""
// when TLS does not explain it.
std::string ConnectionHint(const grpc::Status& status, const ClientSecurity& security);

// A server's transport: TLS with `cert`/`key` (or plaintext when both are empty), verifying
// client certificates against `client_ca` when given (mutual TLS: a client that presents a
// certificate another CA signed, or an expired one, is refused at the handshake; one that
// presents none is let in, and each call decides what it needs).
struct ServerSecurity {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  bool tls = false;
  bool client_certificates = false;
};
core::Result<ServerSecurity> LoadServerSecurity(const std::string& cert, const std::string& key,
                                                const std::string& client_ca);

// A service without TLS may listen only on loopback (127.0.0.0/8, ::1, localhost) unless
// `insecure`: INVALID_ARGUMENT saying why and what to give otherwise.
core::Status CheckListenSecurity(const std::string& listen, bool tls, bool insecure);
bool IsLoopbackHost(std::string_view host);

// The name and role of the certificate the peer presented and the server verified; nullopt
// when it presented none, or its subject names no role. Parsed once per certificate.
std::optional<core::Identity> CertificateIdentity(const grpc::ServerContextBase& ctx);
// The token of an "authorization: Bearer TOKEN" header ("" when there is none).
std::string BearerToken(const grpc::ServerContextBase& ctx);
// The peer's host, without the port: "ipv4:127.0.0.1:5000" -> "127.0.0.1".
std::string PeerHost(const std::string& peer);

// A shared secret between orchestrator and daemons (`--node-token FILE`): the file's first
// line, at least core::kMinTokenBytes bytes. Errors name the file.
core::Result<std::string> ReadNodeToken(const std::string& path);

// Who may send a daemon its tasks: with client certificates, a peer whose certificate has
// role `orchestrator`; with a node token, a caller that sends it; with both, both; with
// neither, anyone (a loopback daemon, or one behind its own network rules).
class TaskCallerCheck final {
 public:
  TaskCallerCheck() = default;
  TaskCallerCheck(bool client_certificates, const std::string& node_token);
  // OK, UNAUTHENTICATED (no credential) or PERMISSION_DENIED (a wrong one), naming the cause.
  core::Status Check(const grpc::ServerContextBase& ctx) const;
  bool open() const { return !client_certificates_ && token_digest_.empty(); }

 private:
  bool client_certificates_ = false;
  std::string token_digest_;  // sha256 of the node token; "" when there is none
};

}  // namespace dim::net
