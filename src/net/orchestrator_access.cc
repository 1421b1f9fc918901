#include "net/orchestrator_access.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdio>

#include "core/sha256.h"
#include "core/text.h"
#include "net/security.h"

namespace dim::net {
namespace {

core::Status Unauthenticated(std::string message) {
  return {core::StatusCode::kUnauthenticated, std::move(message)};
}

std::string RoleText(const std::optional<core::Role>& role) {
  return role ? std::string(core::RoleName(*role)) : std::string();
}

}  // namespace

OrchestratorAccess::OrchestratorAccess(const core::Clock& clock) : clock_(clock) {}

core::Result<std::unique_ptr<OrchestratorAccess>> OrchestratorAccess::Create(
    AccessOptions options, const core::Clock& clock) {
  auto access = std::make_unique<OrchestratorAccess>(clock);
  access->tokens_path_ = options.auth_tokens;
  access->client_certificates_ = options.client_certificates;
  access->users_authenticate_ = !options.auth_tokens.empty() || options.client_certificates;
  if (!options.node_token.empty()) access->node_token_digest_ = core::Sha256Hex(options.node_token);
  if (!options.auth_tokens.empty()) {
    auto table = core::TokenTable::Read(options.auth_tokens);
    if (!table.ok()) return table.status();
    access->tokens_ = std::make_shared<const core::TokenTable>(std::move(*table));
  }
  if (options.rate_limit > 0) {
    const double burst =
        options.rate_burst > 0 ? options.rate_burst : std::max(1.0, options.rate_limit);
    access->limiter_ = std::make_unique<core::RateLimiter>(clock, options.rate_limit, burst);
  }
  if (!options.audit_log.empty()) {
    auto log = core::AuditLog::Open(options.audit_log, clock);
    if (!log.ok()) return log.status();
    access->audit_ = std::move(*log);
  }
  return access;
}

core::Status OrchestratorAccess::ReloadTokens() {
  if (tokens_path_.empty()) return core::Status::Ok();
  auto table = core::TokenTable::Read(tokens_path_);
  if (!table.ok()) return table.status();
  auto fresh = std::make_shared<const core::TokenTable>(std::move(*table));
  std::lock_guard lock(mu_);
  tokens_ = std::move(fresh);
  return core::Status::Ok();
}

size_t OrchestratorAccess::token_count() const {
  std::lock_guard lock(mu_);
  return tokens_ ? tokens_->size() : 0;
}

size_t OrchestratorAccess::plain_token_count() const {
  std::lock_guard lock(mu_);
  return tokens_ ? tokens_->plain_tokens() : 0;
}

bool OrchestratorAccess::IsNodeToken(const std::string& token) const {
  return !node_token_digest_.empty() && !token.empty() &&
         core::Sha256Hex(token) == node_token_digest_;
}

core::Result<std::optional<core::Identity>> OrchestratorAccess::Authenticate(
    const grpc::ServerContextBase& ctx) const {
  const std::string token = BearerToken(ctx);
  if (!token.empty()) {
    std::shared_ptr<const core::TokenTable> tokens;
    {
      std::lock_guard lock(mu_);
      tokens = tokens_;
    }
    if (tokens) {
      if (auto who = tokens->Find(token)) return std::optional<core::Identity>(*who);
    }
    if (IsNodeToken(token))
      return std::optional<core::Identity>(core::Identity{"", core::Role::kNode});
    return Unauthenticated("the token is not valid (unknown, or revoked)");
  }
  if (client_certificates_) {
    if (auto who = CertificateIdentity(ctx)) return std::optional<core::Identity>(*who);
  }
  return std::optional<core::Identity>();
}

core::Status OrchestratorAccess::Refuse(const grpc::ServerContextBase& ctx, std::string_view method,
                                        std::string_view job_id, std::string_view node_id,
                                        core::Status status, std::string_view code) {
  spdlog::warn("{} from {} refused: {}", method, ctx.peer(), status.ToString());
  Caller caller;
  caller.peer = ctx.peer();
  // Who it claimed to be, where a certificate says so (a token that is not valid names no one).
  if (auto who = CertificateIdentity(ctx)) {
    caller.name = who->name;
    caller.role = who->role;
  }
  Audit(caller, method, job_id, node_id, status, code);
  return status;
}

core::Result<Caller> OrchestratorAccess::User(grpc::ServerContextBase& ctx, std::string_view method,
                                              std::string_view job_id) {
  Caller caller;
  caller.peer = ctx.peer();
  if (users_authenticate_) {
    auto who = Authenticate(ctx);
    if (!who.ok()) return Refuse(ctx, method, job_id, {}, who.status());
    if (!who->has_value()) {
      return Refuse(
          ctx, method, job_id, {},
          Unauthenticated("this orchestrator needs credentials: give a token (--token "
                          "or DIM_TOKEN) or a client certificate with role user or admin"));
    }
    const core::Identity& id = **who;
    if (id.role != core::Role::kUser && id.role != core::Role::kAdmin) {
      return Refuse(ctx, method, job_id, {},
                    core::Status::PermissionDenied(
                        (id.name.empty() ? std::string("the node token") : "'" + id.name + "'") +
                        " has role " + std::string(core::RoleName(id.role)) + ": " +
                        std::string(method) + " needs a user or an admin"));
    }
    caller.name = id.name;
    caller.role = id.role;
  }
  if (limiter_) {
    const std::string key =
        caller.authenticated() ? "user:" + caller.name : "host:" + PeerHost(caller.peer);
    if (auto wait = limiter_->Take(key)) {
      char hint[64];
      std::snprintf(hint, sizeof hint, "%.2f", static_cast<double>(wait->count()) / 1000.0);
      core::Status status = core::Status::ResourceExhausted(
          "rate limit exceeded for " +
          (caller.authenticated() ? "user '" + caller.name + "'" : PeerHost(caller.peer)) + " (" +
          core::ShortNumber(limiter_->rate()) + " calls/s, burst " + core::ShortNumber(limiter_->burst()) +
          "): retry in " + hint + " s");
      spdlog::warn("{} from {} refused: {}", method, caller.peer, status.message());
      // For clients that read metadata: why, and when to try again.
      ctx.AddTrailingMetadata("dim-error-code", std::string(kRateLimitExceeded));
      ctx.AddTrailingMetadata("retry-after-ms", std::to_string(wait->count()));
      Audit(caller, method, job_id, {}, status, kRateLimitExceeded);
      return status;
    }
  }
  return caller;
}

core::Result<Caller> OrchestratorAccess::Node(const grpc::ServerContextBase& ctx,
                                              std::string_view method, std::string_view node_id) {
  Caller caller;
  caller.peer = ctx.peer();
  if (!nodes_authenticate()) return caller;
  const std::string token = BearerToken(ctx);
  const auto cert = client_certificates_ ? CertificateIdentity(ctx) : std::nullopt;
  if (cert && cert->role == core::Role::kNode) {
    if (cert->name != node_id) {
      return Refuse(
          ctx, method, {}, node_id,
          core::Status::PermissionDenied("the certificate of node '" + cert->name +
                                         "' cannot act as node '" + core::Snippet(node_id) + "'"));
    }
    caller.name = cert->name;
    caller.role = core::Role::kNode;
    if (node_token_digest_.empty() || IsNodeToken(token)) return caller;
  }
  if (!node_token_digest_.empty()) {
    if (IsNodeToken(token)) {
      caller.name = std::string(node_id);
      caller.role = core::Role::kNode;
      return caller;
    }
    return Refuse(ctx, method, {}, node_id,
                  token.empty() ? Unauthenticated("node '" + core::Snippet(node_id) +
                                                  "': no node token (give the daemon --node-token)")
                                : core::Status::PermissionDenied("node '" + core::Snippet(node_id) +
                                                                 "': wrong node token"));
  }
  if (!cert) {
    return Refuse(ctx, method, {}, node_id,
                  Unauthenticated("node '" + core::Snippet(node_id) +
                                  "': no client certificate (give the daemon --tls-cert and "
                                  "--tls-key, a certificate with role node)"));
  }
  return Refuse(ctx, method, {}, node_id,
                core::Status::PermissionDenied(
                    "'" + cert->name + "' has role " + std::string(core::RoleName(cert->role)) +
                    ": only a node (role node) may " + std::string(method)));
}

core::Result<Caller> OrchestratorAccess::NodeOrUser(grpc::ServerContextBase& ctx,
                                                    std::string_view method) {
  if (nodes_authenticate()) {
    const auto cert = client_certificates_ ? CertificateIdentity(ctx) : std::nullopt;
    if ((cert && cert->role == core::Role::kNode) || IsNodeToken(BearerToken(ctx))) {
      Caller caller;
      caller.peer = ctx.peer();
      caller.name = cert ? cert->name : std::string();
      caller.role = core::Role::kNode;
      return caller;
    }
  }
  return User(ctx, method);
}

void OrchestratorAccess::Audit(const Caller& caller, std::string_view method,
                               std::string_view job_id, std::string_view node_id,
                               const core::Status& outcome, std::string_view code) {
  if (!audit_) return;
  core::AuditEntry e;
  e.peer = caller.peer;
  e.identity = caller.name;
  e.role = RoleText(caller.role);
  e.method = std::string(method);
  e.job_id = std::string(job_id);
  e.node_id = std::string(node_id);
  e.outcome = std::string(core::StatusCodeName(outcome.code()));
  e.code = std::string(code);
  if (!outcome.ok()) e.message = core::SafeMessage(outcome.message());
  if (auto s = audit_->Append(std::move(e)); !s.ok()) {
    static std::once_flag warned;
    std::call_once(
        warned, [&] { spdlog::error("{} (further audit write errors not logged)", s.message()); });
  }
}

core::Result<std::string> OrchestratorAccess::JobOwner(const Caller& caller,
                                                       std::string_view requested) {
  if (!caller.authenticated()) return std::string(requested);
  if (requested.empty() || requested == caller.name) return caller.name;
  if (caller.admin()) return std::string(requested);
  return core::Status::PermissionDenied("user_id '" + core::Snippet(requested) + "': you are '" +
                                        caller.name +
                                        "'; only an admin submits jobs for another user");
}

std::string OrchestratorAccess::Who(const Caller& caller) {
  if (!caller.authenticated()) return {};
  return caller.admin() ? caller.name + " (admin)" : caller.name;
}

bool OrchestratorAccess::IsRateLimited(const core::Status& status) {
  return status.code() == core::StatusCode::kResourceExhausted &&
         status.message().starts_with("rate limit exceeded");
}

}  // namespace dim::net
