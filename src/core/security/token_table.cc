#include "core/security/token_table.h"

#include <sstream>
#include <vector>

#include "core/input_limits.h"
#include "core/regular_file.h"
#include "core/sha256.h"
#include "core/text.h"

namespace dim::core {
namespace {

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace

Result<TokenTable> TokenTable::Parse(std::string_view text, const std::string& where) {
  TokenTable table;
  size_t number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    const auto words = Words(line);
    if (words.empty()) continue;
    const std::string at = where + ":" + std::to_string(number) + ": ";
    if (words.size() != 3) {
      return Status::InvalidArgument(at + "expected TOKEN USER ROLE, got " +
                                     std::to_string(words.size()) + " words");
    }
    const std::string_view token = words[0];
    const std::string_view user = words[1];
    const auto role = ParseRole(words[2]);
    if (!role || (*role != Role::kUser && *role != Role::kAdmin)) {
      return Status::InvalidArgument(at + "role '" + Snippet(words[2]) +
                                     "': must be user or admin");
    }
    if (!IsValidUtf8(user) || user.size() > kMaxNameBytes) {
      return Status::InvalidArgument(at + "user '" + Snippet(user) + "': must be UTF-8, at most " +
                                     std::to_string(kMaxNameBytes) + " bytes");
    }
    std::string digest;
    if (token.starts_with("sha256:")) {
      digest = AsciiLower(token.substr(7));
      if (!IsSha256Hex(digest)) {
        return Status::InvalidArgument(at + "sha256: must be followed by 64 hex digits");
      }
    } else {
      if (token.size() < kMinTokenBytes) {
        return Status::InvalidArgument(at + "token of user '" + Snippet(user) + "': shorter than " +
                                       std::to_string(kMinTokenBytes) +
                                       " bytes (make one with: openssl rand -hex 32)");
      }
      digest = Sha256Hex(token);
      ++table.plain_;
    }
    Identity id{std::string(user), *role};
    if (!table.by_digest_.emplace(std::move(digest), std::move(id)).second) {
      return Status::InvalidArgument(at + "this token is already given to another line");
    }
  }
  return table;
}

Result<TokenTable> TokenTable::Read(const std::filesystem::path& path) {
  auto text = ReadRegularFile(path, size_t{16} << 20, "--auth-tokens " + path.string());
  if (!text.ok()) return Status::InvalidArgument(text.status().message());
  return Parse(*text, path.string());
}

std::optional<Identity> TokenTable::Find(std::string_view token) const {
  if (token.empty()) return std::nullopt;
  // Looked up by digest: how long the lookup takes says nothing about the secret.
  auto it = by_digest_.find(Sha256Hex(token));
  if (it == by_digest_.end()) return std::nullopt;
  return it->second;
}

}  // namespace dim::core
