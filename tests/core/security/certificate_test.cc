#include "core/security/certificate.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace dim::core {
namespace {

namespace fs = std::filesystem;

class CertificateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("dim-cert-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Read(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  static unsigned Mode(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
  }

  fs::path dir_;
};

TEST_F(CertificateTest, AuthorityAndIssuedCertificateSayWhoTheyAre) {
  ASSERT_TRUE(CreateAuthority(dir_, "Test CA", 30).ok());
  EXPECT_EQ(Mode(dir_), 0700u);
  EXPECT_EQ(Mode(dir_ / "ca.key"), 0600u);
  auto ca = ReadCertificateFile(dir_ / "ca.crt");
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  EXPECT_TRUE(ca->is_ca);
  EXPECT_EQ(ca->name, "Test CA");
  EXPECT_FALSE(ca->role.has_value());

  auto crt = IssueCertificate(dir_, {.name = "node-a",
                                     .role = Role::kNode,
                                     .dns = {"a.example.org"},
                                     .ips = {"127.0.0.1", "::1"},
                                     .days = 10});
  ASSERT_TRUE(crt.ok()) << crt.status().ToString();
  EXPECT_EQ(*crt, dir_ / "node-a.crt");
  EXPECT_EQ(Mode(dir_ / "node-a.key"), 0600u);
  auto info = ReadCertificateFile(*crt);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->name, "node-a");
  EXPECT_EQ(info->role, Role::kNode);
  EXPECT_EQ(info->units, std::vector<std::string>{"node"});
  EXPECT_EQ(info->dns, std::vector<std::string>{"a.example.org"});
  EXPECT_EQ(info->ips, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(info->issuer, "CN=Test CA,O=dim");
  EXPECT_EQ(info->subject, "CN=node-a,OU=node,O=dim");
  EXPECT_FALSE(info->is_ca);
  EXPECT_NEAR(static_cast<double>(info->not_after - info->not_before), 10 * 86400 + 300, 2);
  EXPECT_EQ(info->sha256.size(), 64u);
  EXPECT_TRUE(CheckKeyPair(Read(*crt), Read(dir_ / "node-a.key")).ok());
  EXPECT_FALSE(CheckKeyPair(Read(*crt), Read(dir_ / "ca.key")).ok());
}

TEST_F(CertificateTest, NothingIsOverwritten) {
  ASSERT_TRUE(CreateAuthority(dir_, "CA", 30).ok());
  EXPECT_EQ(CreateAuthority(dir_, "CA", 30).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(IssueCertificate(dir_, {.name = "alice", .role = Role::kUser}).ok());
  const std::string first = Read(dir_ / "alice.crt");
  auto again = IssueCertificate(dir_, {.name = "alice", .role = Role::kAdmin});
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Read(dir_ / "alice.crt"), first);
}

TEST_F(CertificateTest, BadRequestsAreRefusedWithReasons) {
  EXPECT_FALSE(IssueCertificate(dir_, {.name = "x", .role = Role::kUser}).ok());  // no CA
  ASSERT_TRUE(CreateAuthority(dir_, "CA", 30).ok());
  for (const char* name : {"", "../evil", "a/b", "-rf", ".hidden", "with space"}) {
    auto r = IssueCertificate(dir_, {.name = name, .role = Role::kUser});
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << name;
  }
  EXPECT_EQ(CheckCertificateName(std::string(65, 'a')).code(), StatusCode::kInvalidArgument);
  auto ip = IssueCertificate(dir_, {.name = "n", .role = Role::kNode, .ips = {"300.1.1.1"}});
  EXPECT_NE(ip.status().message().find("--ip '300.1.1.1': not an IPv4 or IPv6 address"),
            std::string::npos);
  auto dns = IssueCertificate(dir_, {.name = "n", .role = Role::kNode, .dns = {"a,DNS:b"}});
  EXPECT_NE(dns.status().message().find("not a DNS name"), std::string::npos);
  auto days = IssueCertificate(dir_, {.name = "n", .role = Role::kNode, .days = 0});
  EXPECT_EQ(days.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(dir_ / "n.key"));  // nothing left from refused requests
}

TEST_F(CertificateTest, GarbageIsNotACertificate) {
  EXPECT_EQ(ParseCertificatePem("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseCertificatePem("-----BEGIN CERTIFICATE-----\n\xff\xfe\n-----END CERTIFICATE-----\n")
          .status()
          .code(),
      StatusCode::kInvalidArgument);
  fs::create_directories(dir_);
  EXPECT_FALSE(ReadCertificateFile(dir_).ok());  // a directory
  EXPECT_FALSE(ReadCertificateFile(dir_ / "missing.crt").ok());
}

}  // namespace
}  // namespace dim::core
