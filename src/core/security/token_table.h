// The users of an orchestrator (`--auth-tokens FILE`): one `TOKEN USER ROLE` a line, role
// `user` or `admin`, `#` comments and blank lines skipped. A TOKEN written `sha256:<hex>` is
// the token's digest, so the file need hold no secret. Only digests are kept in memory.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/security/identity.h"
#include "core/status.h"

namespace dim::core {

class TokenTable final {
 public:
  // Parses the file's text; errors name `where` and the line ("FILE:3: ...").
  static Result<TokenTable> Parse(std::string_view text, const std::string& where);
  // Reads and parses a file (a regular file, at most 16 MiB).
  static Result<TokenTable> Read(const std::filesystem::path& path);

  // Who holds `token` (the secret a client sent), if anyone.
  std::optional<Identity> Find(std::string_view token) const;
  size_t size() const { return by_digest_.size(); }
  // Lines whose token is written in the clear (for a warning).
  size_t plain_tokens() const { return plain_; }

 private:
  std::unordered_map<std::string, Identity> by_digest_;  // sha256 hex of the token
  size_t plain_ = 0;
};

// The shortest token dim accepts (bytes): shorter ones are guessable.
inline constexpr size_t kMinTokenBytes = 16;

}  // namespace dim::core
