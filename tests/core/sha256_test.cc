#include "core/sha256.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/core/test_support.h"

namespace dim::core {
namespace {

// FIPS 180-2 test vectors.
constexpr char kEmpty[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr char kAbc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr char kTwoBlocks[] = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr char kMillionA[] = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), kEmpty);
  EXPECT_EQ(Sha256Hex("abc"), kAbc);
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), kTwoBlocks);
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')), kMillionA);
}

TEST(Sha256, PiecesHashLikeTheWhole) {
  Sha256Hasher hasher;
  const std::string a(1000, 'a');
  for (int i = 0; i < 1000; ++i) hasher.Update(a);
  EXPECT_EQ(hasher.HexDigest(), kMillionA);

  Sha256Hasher odd;  // pieces that straddle the 64-byte blocks, and empty ones
  odd.Update("ab");
  odd.Update("");
  odd.Update("c");
  EXPECT_EQ(odd.HexDigest(), kAbc);
}

TEST(Sha256, FileIsHashedInPieces) {
  dim::testing::ScratchDir dir;
  const auto path = dir.Write("big.bin", std::string(3 * 1000 * 1000 + 7, 'a'));
  auto digest = Sha256File(path);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  EXPECT_EQ(*digest, Sha256Hex(std::string(3 * 1000 * 1000 + 7, 'a')));
  auto empty = Sha256File(dir.Write("empty", ""));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, kEmpty);
  EXPECT_EQ(Sha256File(dir / "missing").status().code(), StatusCode::kNotFound);
}

TEST(Sha256, IsSha256HexWantsSixtyFourLowercaseHexDigits) {
  EXPECT_TRUE(IsSha256Hex(kAbc));
  EXPECT_FALSE(IsSha256Hex(std::string(kAbc).substr(1)));
  EXPECT_FALSE(IsSha256Hex(std::string(kAbc) + "0"));
  EXPECT_FALSE(IsSha256Hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
  EXPECT_FALSE(IsSha256Hex(std::string(63, 'a') + "g"));
}

}  // namespace
}  // namespace dim::core
