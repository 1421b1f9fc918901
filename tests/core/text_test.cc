#include "core/text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace dim::core {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

TEST(Utf8, TellsWellFormedTextFromBytesThatAreNot) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("h\xc3\xa9pital \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("h\xe9pital"));        // Latin-1
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // cut in half
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST(Utf8, ReadsBadBytesAsLatin1) {
  EXPECT_EQ(ToValidUtf8("h\xe9pital"), "h\xc3\xa9pital");
  EXPECT_EQ(ToValidUtf8("\xe2ge"), "\xc3\xa2ge");
  EXPECT_EQ(ToValidUtf8("ok \xc3\xa9"), "ok \xc3\xa9");
  EXPECT_TRUE(IsValidUtf8(ToValidUtf8("\xff\xfe\xc3")));
}

TEST(Snippet, CutsOnACharacterBoundaryAndSaysHowLongTheTextWas) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "\xc3\xa9";  // 600 bytes
  const std::string s = Snippet(text, 201);
  EXPECT_TRUE(IsValidUtf8(s));
  EXPECT_THAT(s, EndsWith("... (600 bytes)"));
  EXPECT_LT(s.size(), 230u);
  EXPECT_EQ(Snippet("short"), "short");
}

TEST(Snippet, ShowsControlCharacters) {
  EXPECT_EQ(Snippet("a\nb\tc\x01"), "a\\nb\\tc\\x01");
  EXPECT_EQ(SafeMessage("line 1\nline 2\x1b"), "line 1\nline 2\\x1b");
}

TEST(SafeMessage, CapsWhatAPeerIsSent) {
  const std::string m = SafeMessage("job '" + std::string(20000, 'x') + "' not found");
  EXPECT_LE(m.size(), kMaxMessageBytes + 32);
  EXPECT_THAT(m, HasSubstr("(20016 bytes)"));
}

TEST(DumpJson, NeverThrowsOnBytesThatAreNotUtf8) {
  nlohmann::json doc = {{"error", "h\xe9pital"}, {"ok", "\xc3\xa9"}};
  std::string out;
  ASSERT_NO_THROW(out = DumpJson(doc));
  EXPECT_TRUE(IsValidUtf8(out));
  EXPECT_THAT(out, HasSubstr("\xef\xbf\xbd"));  // U+FFFD
  EXPECT_TRUE(nlohmann::json::accept(out));
}

TEST(CheckJsonDepth, RefusesDeepNestingInOnePass) {
  EXPECT_TRUE(CheckJsonDepth("[[[]]]", 3).ok());
  const Status deep = CheckJsonDepth(std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_EQ(deep.message(), "$: nested deeper than 64 levels (at byte 65)");
  // Brackets inside strings do not count.
  EXPECT_TRUE(CheckJsonDepth("{\"a\": \"[[[[[[\\\"[[[[\"}", 2).ok());
}

TEST(Status, MessagesAreAlwaysValidUtf8) {
  const Status s = Status::InvalidArgument("file h\xe9.csv: gone");
  EXPECT_TRUE(IsValidUtf8(s.message()));
  EXPECT_EQ(s.message(), "file h\xc3\xa9.csv: gone");
}

}  // namespace
}  // namespace dim::core

namespace dim::core {
namespace {

TEST(Counted, SingularForOneAndPluralOtherwise) {
  EXPECT_EQ(Counted(1, "node"), "1 node");
  EXPECT_EQ(Counted(3, "node"), "3 nodes");
  EXPECT_EQ(Counted(0, "row"), "0 rows");
  EXPECT_EQ(Counted(1, "entry", "entries"), "1 entry");
  EXPECT_EQ(Counted(2, "entry", "entries"), "2 entries");
}

TEST(GroupThousands, PutsACommaEveryThreeDigits) {
  EXPECT_EQ(GroupThousands(0), "0");
  EXPECT_EQ(GroupThousands(999), "999");
  EXPECT_EQ(GroupThousands(1000), "1,000");
  EXPECT_EQ(GroupThousands(1234567), "1,234,567");
  EXPECT_EQ(GroupThousands(-1234), "-1,234");
}

TEST(Nearest, SuggestsOnlyWithinTheEditsAllowed) {
  EXPECT_EQ(EditDistance("pattern", "patern"), 1u);
  EXPECT_EQ(Nearest("patern", {"pattern", "priority"}, 2), "pattern");
  EXPECT_EQ(Nearest("zzz", {"pattern", "priority"}, 2), "");
}

}  // namespace
}  // namespace dim::core
