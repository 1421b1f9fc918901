#include "core/security/token_table.h"

#include <gtest/gtest.h>

#include "core/sha256.h"

namespace dim::core {
namespace {

TEST(TokenTable, FindsUsersByPlainOrHashedToken) {
  const std::string bob = "bob-secret-0123456789";
  auto t = TokenTable::Parse(
      "# users\n\nalice-secret-0123456789 alice user  # a comment\n"
      "sha256:" +
          Sha256Hex(bob) + "\tbob\tadmin\r\n",
      "tokens");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->size(), 2u);
  EXPECT_EQ(t->plain_tokens(), 1u);
  auto alice = t->Find("alice-secret-0123456789");
  ASSERT_TRUE(alice.has_value());
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->role, Role::kUser);
  auto b = t->Find(bob);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->role, Role::kAdmin);
  EXPECT_FALSE(t->Find("").has_value());
  EXPECT_FALSE(t->Find("sha256:" + Sha256Hex(bob)).has_value());  // the digest is no token
  EXPECT_FALSE(t->Find("alice-secret-012345678").has_value());
}

TEST(TokenTable, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {
           Case{"a-long-enough-token-1 alice\n", "tokens:1: expected TOKEN USER ROLE, got 2 words"},
           Case{"\na-long-enough-token-1 alice root\n",
                "tokens:2: role 'root': must be user or admin"},
           Case{"short alice user\n", "tokens:1: token of user 'alice': shorter than 16 bytes"},
           Case{"sha256:abc alice user\n", "tokens:1: sha256: must be followed by 64 hex digits"},
           Case{"a-long-enough-token-1 alice user\na-long-enough-token-1 bob user\n",
                "tokens:2: this token is already given to another line"},
           Case{"a-long-enough-token-1 \xff\xfe user\n", "tokens:1: user"},
       }) {
    auto t = TokenTable::Parse(c.text, "tokens");
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(t.status().message().find(c.error), std::string::npos) << t.status().message();
  }
}

TEST(TokenTable, ReadRefusesWhatIsNotAFile) {
  EXPECT_EQ(TokenTable::Read("/nonexistent/tokens").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TokenTable::Read("/tmp").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dim::core
