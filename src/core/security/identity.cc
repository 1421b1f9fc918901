#include "core/security/identity.h"

namespace dim::core {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kOrchestrator:
      return "orchestrator";
    case Role::kNode:
      return "node";
    case Role::kUser:
      return "user";
    case Role::kAdmin:
      return "admin";
  }
  return "user";
}

std::optional<Role> ParseRole(std::string_view text) {
  for (Role r : {Role::kOrchestrator, Role::kNode, Role::kUser, Role::kAdmin}) {
    if (text == RoleName(r)) return r;
  }
  return std::nullopt;
}

}  // namespace dim::core
