// Who may do what at the orchestrator (SPEC section 6): users authenticated by a bearer
// token (`--auth-tokens`) or a client certificate (role user/admin), nodes by their
// certificate (role node, CN = the node id) or the shared `--node-token`, a per-caller rate
// limit, and the audit log of every state-changing or refused call. Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/security/audit_log.h"
#include "core/security/identity.h"
#include "core/security/rate_limiter.h"
#include "core/security/token_table.h"
#include "core/status.h"

namespace dim::net {

// The caller of one call.
struct Caller {
  // The authenticated name; with authentication off, "".
  std::string name;
  // nullopt: authentication is off (every caller may do everything, as before).
  std::optional<core::Role> role;
  std::string peer;

  bool authenticated() const { return role.has_value(); }
  // Sees and cancels every job; pushes models.
  bool admin() const { return !role || *role == core::Role::kAdmin; }
};

struct AccessOptions {
  std::string auth_tokens;           // --auth-tokens FILE ("" : none)
  bool client_certificates = false;  // --tls-client-ca given (mutual TLS)
  std::string node_token;            // --node-token's secret ("" : none)
  double rate_limit = 0;             // calls a second per caller (0: no limit)
  double rate_burst = 0;             // 0: max(1, rate_limit)
  std::string audit_log;             // --audit-log FILE ("" : none)
};

// The Error.code of a call refused by the rate limit (its gRPC code is RESOURCE_EXHAUSTED).
inline constexpr std::string_view kRateLimitExceeded = "RATE_LIMIT_EXCEEDED";

class OrchestratorAccess final {
 public:
  // Reads the token file and opens the audit log; errors name the flag.
  static core::Result<std::unique_ptr<OrchestratorAccess>> Create(AccessOptions options,
                                                                  const core::Clock& clock);
  // Everyone may do everything: no options (the loopback default and the tests').
  OrchestratorAccess(const core::Clock& clock);

  // Whether users must authenticate (tokens or client certificates are configured).
  bool users_authenticate() const { return users_authenticate_; }
  // Whether nodes must authenticate (client certificates or a node token).
  bool nodes_authenticate() const { return client_certificates_ || !node_token_digest_.empty(); }

  // Re-reads --auth-tokens (SIGHUP). On error the tokens in use stay, and the error says why.
  core::Status ReloadTokens();
  size_t token_count() const;
  // Tokens the file holds in the clear (not as sha256:).
  size_t plain_token_count() const;

  // A user's call: authenticates the caller (UNAUTHENTICATED without a credential or with a
  // wrong one; PERMISSION_DENIED for a certificate whose role is not user or admin) and
  // takes a token from its rate-limit bucket (RESOURCE_EXHAUSTED "rate limit exceeded ...",
  // with trailing metadata dim-error-code: RATE_LIMIT_EXCEEDED and retry-after-ms). Refusals
  // are audited.
  core::Result<Caller> User(grpc::ServerContextBase& ctx, std::string_view method,
                            std::string_view job_id = {});
  // A node's call (RegisterNode, Heartbeat) for `node_id`: with client certificates the peer
  // must be that node (role node, CN = node_id); with a node token it must send it.
  // PERMISSION_DENIED names the mismatch. Refusals are audited.
  core::Result<Caller> Node(const grpc::ServerContextBase& ctx, std::string_view method,
                            std::string_view node_id);
  // A call either a node or a user makes (FetchModel, ListModels).
  core::Result<Caller> NodeOrUser(grpc::ServerContextBase& ctx, std::string_view method);

  // Whose job a submit by `caller` is: with authentication off, `requested` (the request's
  // user_id, as before); an admin may name anyone (itself when `requested` is empty); a user
  // is itself, and naming another user is PERMISSION_DENIED.
  static core::Result<std::string> JobOwner(const Caller& caller, std::string_view requested);
  // Whether `caller` may see, watch, read and cancel a job of `owner`. Another user's job
  // is answered NOT_FOUND, as if it did not exist.
  static bool MaySee(const Caller& caller, const std::string& owner) {
    return caller.admin() || caller.name == owner;
  }
  // Who the caller is, as a job's cancel records it ("alice", "alice (admin)"; "" when
  // authentication is off).
  static std::string Who(const Caller& caller);

  // Appends the outcome of a call to the audit log (when there is one). `code` is the Error
  // code when it differs from the status code's name.
  void Audit(const Caller& caller, std::string_view method, std::string_view job_id,
             std::string_view node_id, const core::Status& outcome, std::string_view code = {});
  bool auditing() const { return audit_ != nullptr; }

  // The status of a call refused by the rate limit.
  static bool IsRateLimited(const core::Status& status);

 private:
  // The identity behind the call's credentials; nullopt when it sent none.
  core::Result<std::optional<core::Identity>> Authenticate(
      const grpc::ServerContextBase& ctx) const;
  core::Status Refuse(const grpc::ServerContextBase& ctx, std::string_view method,
                      std::string_view job_id, std::string_view node_id, core::Status status,
                      std::string_view code = {});
  bool IsNodeToken(const std::string& token) const;

  const core::Clock& clock_;
  std::string tokens_path_;
  bool users_authenticate_ = false;
  bool client_certificates_ = false;
  std::string node_token_digest_;
  mutable std::mutex mu_;
  std::shared_ptr<const core::TokenTable> tokens_;  // under mu_
  std::unique_ptr<core::RateLimiter> limiter_;
  std::unique_ptr<core::AuditLog> audit_;
};

}  // namespace dim::net
