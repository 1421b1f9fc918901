// Who is calling: a name and a role, as a certificate's subject (CN, OU) or a token names them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dim::core {

// The roles of SPEC section 6. A certificate's OU holds one; a token's line names one.
enum class Role { kOrchestrator, kNode, kUser, kAdmin };

// "orchestrator", "node", "user", "admin".
std::string_view RoleName(Role role);
// The inverse of RoleName (exact, lowercase); nullopt for anything else.
std::optional<Role> ParseRole(std::string_view text);

struct Identity {
  std::string name;
  Role role = Role::kUser;
};

}  // namespace dim::core
