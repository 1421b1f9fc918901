#include "core/models/model_ref.h"

#include <algorithm>
#include <cctype>

#include "core/sha256.h"
#include "core/text.h"

namespace dim::core {

bool IsPlainModelName(std::string_view name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::optional<std::string> Sha256OfModelId(std::string_view id) {
  if (id.substr(0, kSha256Prefix.size()) != kSha256Prefix) return std::nullopt;
  const std::string hex = AsciiLower(id.substr(kSha256Prefix.size()));
  if (!IsSha256Hex(hex)) return std::nullopt;
  return hex;
}

std::string Sha256ModelId(std::string_view hex) {
  std::string id(kSha256Prefix);
  id += hex;
  return id;
}

Status CheckModelName(std::string_view name) {
  if (IsPlainModelName(name)) return Status::Ok();
  return Status::InvalidArgument("model name '" + std::string(name) +
                                 "' is not a plain name (letters, digits, '-', '_', '.')");
}

Status CheckModelId(std::string_view id) {
  if (IsPlainModelName(id) || Sha256OfModelId(id)) return Status::Ok();
  if (id.substr(0, kSha256Prefix.size()) == kSha256Prefix) {
    return Status::InvalidArgument("model id '" + std::string(id) +
                                   "' is not sha256: followed by 64 hex digits");
  }
  return Status::InvalidArgument("model id '" + std::string(id) +
                                 "' is not a plain name (letters, digits, '-', '_', '.') or "
                                 "sha256:<hex>");
}

}  // namespace dim::core
