#include "net/security.h"

#include <grpc/grpc_security_constants.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <unordered_map>

#include "core/clock.h"
#include "core/host_port.h"
#include "core/regular_file.h"
#include "core/security/certificate.h"
#include "core/security/token_table.h"
#include "core/sha256.h"
#include "core/text.h"

namespace dim::net {
namespace {

std::string Day(int64_t unix_seconds) {
  return core::FormatIso8601(
             std::chrono::system_clock::time_point(std::chrono::seconds(unix_seconds)))
      .substr(0, 10);
}

// A certificate file that can serve now: PEM, within its validity, and (with `key_pem`)
// the key's. Errors begin with "FLAG PATH: ".
core::Status CheckCertificate(const std::string& pem, const std::string& path,
                              const std::string& flag, const std::string* key_pem) {
  auto info = core::ParseCertificatePem(pem);
  const std::string at = flag + " " + path + ": ";
  if (!info.ok()) return core::Status::InvalidArgument(at + info.status().message());
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (info->not_after < now) {
    return {core::StatusCode::kUnauthenticated,
            at + "certificate expired on " + Day(info->not_after)};
  }
  if (info->not_before > now) {
    return {core::StatusCode::kUnauthenticated,
            at + "certificate not valid before " + Day(info->not_before)};
  }
  if (key_pem != nullptr) {
    if (auto s = core::CheckKeyPair(pem, *key_pem); !s.ok()) {
      return core::Status::InvalidArgument(at + s.message());
    }
  }
  return core::Status::Ok();
}

struct OwnPair {
  std::string cert, key;
};

core::Result<std::optional<OwnPair>> ReadOwnPair(const std::string& cert, const std::string& key,
                                                 const std::string& flags) {
  if (cert.empty() != key.empty()) {
    return core::Status::InvalidArgument(flags + "-cert and " + flags +
                                         "-key go together: give both or neither");
  }
  if (cert.empty()) return std::optional<OwnPair>();
  DIM_ASSIGN_OR_RETURN(std::string cert_pem, core::ReadPemFile(cert, flags + "-cert"));
  DIM_ASSIGN_OR_RETURN(std::string key_pem, core::ReadPemFile(key, flags + "-key"));
  DIM_RETURN_IF_ERROR(CheckCertificate(cert_pem, cert, flags + "-cert", &key_pem));
  return std::optional<OwnPair>(OwnPair{std::move(cert_pem), std::move(key_pem)});
}

}  // namespace

core::Result<ClientSecurity> ClientSecurity::Load(const std::string& ca, const std::string& cert,
                                                  const std::string& key, std::string token,
                                                  const std::string& flags) {
  ClientSecurity out;
  if (!token.empty()) {
    if (!core::IsValidUtf8(token) || std::any_of(token.begin(), token.end(), [](char c) {
          return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
        })) {
      return core::Status::InvalidArgument(
          "the token (--token or DIM_TOKEN) must be printable, without spaces");
    }
    out.authorization_ = "Bearer " + token;
  }
  DIM_ASSIGN_OR_RETURN(auto own, ReadOwnPair(cert, key, flags));
  if (ca.empty()) {
    if (own) {
      return core::Status::InvalidArgument(flags + "-cert needs " + flags +
                                           "-ca: the CA that signed the server's certificate");
    }
    out.credentials_ = grpc::InsecureChannelCredentials();
    return out;
  }
  DIM_ASSIGN_OR_RETURN(std::string ca_pem, core::ReadPemFile(ca, flags + "-ca"));
  DIM_RETURN_IF_ERROR(CheckCertificate(ca_pem, ca, flags + "-ca", nullptr));
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = std::move(ca_pem);
  if (own) {
    options.pem_cert_chain = std::move(own->cert);
    options.pem_private_key = std::move(own->key);
  }
  out.credentials_ = grpc::SslCredentials(options);
  out.tls_ = true;
  return out;
}

std::shared_ptr<grpc::Channel> ClientSecurity::Dial(const std::string& address,
                                                    const grpc::ChannelArguments& args) const {
  return grpc::CreateCustomChannel(
      address, credentials_ ? credentials_ : grpc::InsecureChannelCredentials(), args);
}

void ClientSecurity::Authorize(grpc::ClientContext& ctx) const {
  if (!authorization_.empty()) ctx.AddMetadata("authorization", authorization_);
}

std::string ConnectionHint(const grpc::Status& status, const ClientSecurity& security) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE ||
      status.error_message().find("Socket closed") == std::string::npos) {
    return {};
  }
  if (!security.tls()) {
    return "the server closed the connection: if it serves TLS, give --tls-ca or DIM_TLS_CA";
  }
  return "the server closed the connection during the TLS handshake: it did not accept this "
         "client's certificate (signed by another CA, or expired?), or it does not serve TLS";
}

core::Result<ServerSecurity> LoadServerSecurity(const std::string& cert, const std::string& key,
                                                const std::string& client_ca) {
  ServerSecurity out;
  DIM_ASSIGN_OR_RETURN(auto own, ReadOwnPair(cert, key, "--tls"));
  if (!own) {
    if (!client_ca.empty()) {
      return core::Status::InvalidArgument(
          "--tls-client-ca needs --tls-cert and --tls-key: client certificates are checked "
          "only over TLS");
    }
    out.credentials = grpc::InsecureServerCredentials();
    return out;
  }
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({own->key, own->cert});
  if (!client_ca.empty()) {
    DIM_ASSIGN_OR_RETURN(std::string ca_pem, core::ReadPemFile(client_ca, "--tls-client-ca"));
    DIM_RETURN_IF_ERROR(CheckCertificate(ca_pem, client_ca, "--tls-client-ca", nullptr));
    options.pem_root_certs = std::move(ca_pem);
    options.client_certificate_request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
    out.client_certificates = true;
  }
  out.credentials = grpc::SslServerCredentials(options);
  out.tls = true;
  return out;
}

bool IsLoopbackHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" || host.starts_with("127.");
}

core::Status CheckListenSecurity(const std::string& listen, bool tls, bool insecure) {
  if (tls || insecure) return core::Status::Ok();
  auto parsed = core::ParseHostPort(listen, 0);
  if (!parsed.ok() || IsLoopbackHost(parsed->host)) return core::Status::Ok();
  return core::Status::InvalidArgument(
      "--listen " + listen +
      " is not a loopback address, and this service has no TLS: anyone on the network could "
      "call it and read what it sends. Give --tls-cert and --tls-key (see dim cert), or "
      "--insecure if the network is private");
}

std::optional<core::Identity> CertificateIdentity(const grpc::ServerContextBase& ctx) {
  const auto auth = ctx.auth_context();
  if (!auth) return std::nullopt;
  const auto pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) return std::nullopt;
  std::string pem(pems.front().data(), pems.front().size());
  // A connection's calls all show the same certificate: it is parsed once.
  static std::mutex mu;
  static std::unordered_map<std::string, std::optional<core::Identity>> cache;
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(pem); it != cache.end()) return it->second;
  }
  std::optional<core::Identity> identity;
  if (auto info = core::ParseCertificatePem(pem); info.ok() && info->role && !info->name.empty()) {
    identity = core::Identity{info->name, *info->role};
  }
  std::lock_guard lock(mu);
  if (cache.size() >= 4096) cache.clear();
  cache.emplace(std::move(pem), identity);
  return identity;
}

std::string BearerToken(const grpc::ServerContextBase& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return {};
  std::string_view value(it->second.data(), it->second.size());
  constexpr std::string_view kBearer = "bearer ";
  if (value.size() <= kBearer.size()) return {};
  for (size_t i = 0; i < kBearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kBearer[i]) return {};
  }
  value.remove_prefix(kBearer.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return std::string(value);
}

std::string PeerHost(const std::string& peer) {
  std::string_view p = peer;
  if (auto colon = p.find(':');
      colon != std::string_view::npos && (p.starts_with("ipv4:") || p.starts_with("ipv6:"))) {
    p.remove_prefix(colon + 1);
  }
  if (auto last = p.rfind(':'); last != std::string_view::npos) p = p.substr(0, last);
  return std::string(p);
}

core::Result<std::string> ReadNodeToken(const std::string& path) {
  auto text = core::ReadRegularFile(path, 64 * 1024, "--node-token " + path);
  if (!text.ok()) return core::Status::InvalidArgument(text.status().message());
  std::string token = text->substr(0, text->find('\n'));
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) {
    token.pop_back();
  }
  const auto first = token.find_first_not_of(" \t");
  token = first == std::string::npos ? std::string() : token.substr(first);
  if (token.size() < core::kMinTokenBytes || std::any_of(token.begin(), token.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
      })) {
    return core::Status::InvalidArgument(
        "--node-token " + path + ": the first line must be a secret of at least " +
        std::to_string(core::kMinTokenBytes) +
        " printable bytes without spaces (make one with: openssl rand -hex 32)");
  }
  return token;
}

TaskCallerCheck::TaskCallerCheck(bool client_certificates, const std::string& node_token)
    : client_certificates_(client_certificates),
      token_digest_(node_token.empty() ? std::string() : core::Sha256Hex(node_token)) {}

core::Status TaskCallerCheck::Check(const grpc::ServerContextBase& ctx) const {
  if (client_certificates_) {
    const auto who = CertificateIdentity(ctx);
    if (!who) {
      return {core::StatusCode::kUnauthenticated,
              "this daemon takes tasks only from its orchestrator: no client certificate"};
    }
    if (who->role != core::Role::kOrchestrator) {
      return core::Status::PermissionDenied(
          "this daemon takes tasks only from its orchestrator, not from '" + who->name +
          "' (role " + std::string(core::RoleName(who->role)) + ")");
    }
  }
  if (!token_digest_.empty()) {
    const std::string token = BearerToken(ctx);
    if (token.empty()) {
      return {core::StatusCode::kUnauthenticated,
              "this daemon takes tasks only from its orchestrator: no node token"};
    }
    if (core::Sha256Hex(token) != token_digest_) {
      return core::Status::PermissionDenied(
          "this daemon takes tasks only from its orchestrator: wrong node token");
    }
  }
  return core::Status::Ok();
}

}  // namespace dim::net
