// SHA-256 digests (OpenSSL EVP), as lowercase hex: how models are content-addressed.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace dim::core {

// Hashes bytes fed in pieces. Not thread-safe; one hasher per stream of bytes.
class Sha256Hasher final {
 public:
  Sha256Hasher();
  ~Sha256Hasher();
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;

  void Update(std::string_view bytes);
  // The digest of everything fed so far, as 64 lowercase hex digits. Ends the hasher: call
  // it once.
  std::string HexDigest();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

// The digest of `bytes` as 64 lowercase hex digits.
std::string Sha256Hex(std::string_view bytes);

// The digest of a file's content, read in pieces. NOT_FOUND when it cannot be opened;
// UNAVAILABLE when reading fails.
Result<std::string> Sha256File(const std::filesystem::path& path);

// Whether `text` is 64 lowercase hex digits.
bool IsSha256Hex(std::string_view text);

}  // namespace dim::core
