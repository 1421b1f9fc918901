#include "core/models/model_ref.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dim::core {
namespace {

using ::testing::HasSubstr;

const std::string kHex(64, 'a');

TEST(ModelRef, PlainNames) {
  for (const char* name : {"heart_mlp", "risk-v1.2_final", "A", "x.y"}) {
    EXPECT_TRUE(IsPlainModelName(name)) << name;
    EXPECT_TRUE(CheckModelName(name).ok()) << name;
  }
  const std::vector<std::string> bad = {
      "", ".", "..", "a/b", "../x", "x y", "sha256:" + kHex, std::string(201, 'a')};
  for (const std::string& name : bad) {
    EXPECT_FALSE(IsPlainModelName(name)) << name;
    const Status s = CheckModelName(name);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(s.message(), HasSubstr("not a plain name")) << name;
  }
}

TEST(ModelRef, Sha256IdsAreLowercasedAndChecked) {
  EXPECT_EQ(Sha256OfModelId("sha256:" + kHex), kHex);
  EXPECT_EQ(Sha256OfModelId("sha256:" + std::string(64, 'A')), kHex);
  EXPECT_EQ(Sha256ModelId(kHex), "sha256:" + kHex);
  EXPECT_FALSE(Sha256OfModelId("sha256:" + kHex.substr(1)));
  EXPECT_FALSE(Sha256OfModelId("sha256:" + std::string(64, 'g')));
  EXPECT_FALSE(Sha256OfModelId("SHA256:" + kHex));
  EXPECT_FALSE(Sha256OfModelId(kHex));
}

TEST(ModelRef, CheckModelIdTakesNamesAndDigests) {
  EXPECT_TRUE(CheckModelId("heart_mlp").ok());
  EXPECT_TRUE(CheckModelId("sha256:" + kHex).ok());
  const Status short_digest = CheckModelId("sha256:abc");
  EXPECT_EQ(short_digest.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(short_digest.message(), HasSubstr("64 hex digits"));
  const Status path = CheckModelId("../etc/passwd");
  EXPECT_EQ(path.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(path.message(), HasSubstr("'../etc/passwd' is not a plain name"));
}

}  // namespace
}  // namespace dim::core
