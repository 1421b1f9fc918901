// The client's config file and its profiles, against the real global options
// (src/cli/client_profiles.h), and --token-file.
#include "cli/client_profiles.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/cli/command_tree.h"
#include "tests/core/test_support.h"

namespace dim::cli {
namespace {

using testing::CommandTree;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// A command that needs no server and no file to parse: the profile is applied at parse.
const std::vector<std::string> kLs = {"ls"};

class ClientProfilesTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override { testing::ClearDimEnvironment(dir_.path().string()); }

  // Writes the config file at $DIM_CONFIG and returns its path.
  std::string Config(const std::string& text) {
    const std::string path = Write("config.toml", text).string();
    setenv("DIM_CONFIG", path.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
    return path;
  }

  std::string Parse(std::vector<std::string> args) { return dim_.Parse(args); }
  std::string In(const std::string& name) const { return (dir_ / name).string(); }

  CommandTree dim_;
};

constexpr char kTwoProfiles[] =
    "profile = \"lab\"\n"
    "\n"
    "[profiles.lab]\n"
    "server = \"lab.example:50051\"\n"
    "output = \"json\"\n"
    "rpc-timeout = 30\n"
    "token-file = \"lab.token\"\n"
    "tls-ca = \"certs/ca.pem\"\n"
    "tls-cert = \"/etc/dim/me.pem\"\n"
    "tls-key = \"certs/me.key\"\n"
    "\n"
    "[profiles.prod]\n"
    "server = \"prod.example:50051\"\n";

TEST_F(ClientProfilesTest, NoConfigFileIsFine) {
  ASSERT_EQ(Parse(kLs), "");
  EXPECT_EQ(dim_.options().server, "127.0.0.1:50051");
}

TEST_F(ClientProfilesTest, TheFilesProfileKeyPicksTheDefault) {
  Config(kTwoProfiles);
  ASSERT_EQ(Parse(kLs), "");
  const GlobalOptions& o = dim_.options();
  EXPECT_EQ(o.server, "lab.example:50051");
  EXPECT_EQ(o.output, OutputFormat::kJson);
  EXPECT_EQ(o.rpc_timeout_seconds, 30);
  // Relative paths are the config file's folder's, absolute ones stay.
  EXPECT_EQ(o.token_file, In("lab.token"));
  EXPECT_EQ(o.tls_ca, In("certs/ca.pem"));
  EXPECT_EQ(o.tls_cert, "/etc/dim/me.pem");
  EXPECT_EQ(o.tls_key, In("certs/me.key"));
}

TEST_F(ClientProfilesTest, ProfileFlagAndEnvironmentPickAnother) {
  Config(kTwoProfiles);
  ASSERT_EQ(Parse({"--profile", "prod", "ls"}), "");
  EXPECT_EQ(dim_.options().server, "prod.example:50051");
  EXPECT_EQ(dim_.options().output, OutputFormat::kTable);  // prod does not set it
  EXPECT_EQ(dim_.options().token_file, "");

  setenv("DIM_PROFILE", "prod", 1);  // NOLINT(concurrency-mt-unsafe)
  CommandTree env;
  ASSERT_EQ(env.Parse(kLs), "");
  EXPECT_EQ(env.options().server, "prod.example:50051");

  CommandTree flag_over_env;
  ASSERT_EQ(flag_over_env.Parse({"ls", "--profile", "lab"}), "");
  EXPECT_EQ(flag_over_env.options().server, "lab.example:50051");
}

TEST_F(ClientProfilesTest, FlagThenEnvironmentThenProfileThenDefault) {
  Config(kTwoProfiles);
  setenv("DIM_SERVER", "env.example:1", 1);  // NOLINT(concurrency-mt-unsafe)
  ASSERT_EQ(Parse({"--server", "flag.example:1", "ls"}), "");
  EXPECT_EQ(dim_.options().server, "flag.example:1");

  CommandTree env;
  ASSERT_EQ(env.Parse(kLs), "");
  EXPECT_EQ(env.options().server, "env.example:1");
  EXPECT_EQ(env.options().output, OutputFormat::kJson);  // still the profile's

  unsetenv("DIM_SERVER");  // NOLINT(concurrency-mt-unsafe)
  CommandTree flag_output;
  ASSERT_EQ(flag_output.Parse({"-o", "table", "ls"}), "");
  EXPECT_EQ(flag_output.options().output, OutputFormat::kTable);
  EXPECT_EQ(flag_output.options().server, "lab.example:50051");
}

TEST_F(ClientProfilesTest, TheDefaultFileIsUnderXdgConfigHomeElseHome) {
  std::filesystem::create_directories(dir_ / ".config" / "dim");
  Write(".config/dim/config.toml", "profile = \"h\"\n[profiles.h]\nserver = \"home:1\"\n");
  ASSERT_EQ(Parse(kLs), "");
  EXPECT_EQ(dim_.options().server, "home:1");

  std::filesystem::create_directories(dir_ / "xdg" / "dim");
  Write("xdg/dim/config.toml", "profile = \"x\"\n[profiles.x]\nserver = \"xdg:1\"\n");
  setenv("XDG_CONFIG_HOME", In("xdg").c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  CommandTree xdg;
  ASSERT_EQ(xdg.Parse(kLs), "");
  EXPECT_EQ(xdg.options().server, "xdg:1");
  EXPECT_EQ(FindClientConfig().path, In("xdg") + "/dim/config.toml");
  EXPECT_FALSE(FindClientConfig().named);
}

TEST_F(ClientProfilesTest, AMissingDimConfigIsAnError) {
  setenv("DIM_CONFIG", In("nope.toml").c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  EXPECT_EQ(Parse(kLs), "DIM_CONFIG: " + In("nope.toml") + ": no such file");
}

TEST_F(ClientProfilesTest, ABrokenFileIsAnErrorNamingIt) {
  const std::string f = Config("profile = \"lab\"\n[profiles.lab\nserver = 1\n");
  EXPECT_THAT(Parse(kLs), StartsWith(f + ":2:"));
  const std::string fifo = In("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  setenv("DIM_CONFIG", fifo.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  EXPECT_EQ(CommandTree().Parse(kLs), fifo + ": not a regular file (a FIFO)");
}

TEST_F(ClientProfilesTest, AnUnknownProfileListsTheKnownOnes) {
  const std::string f = Config(kTwoProfiles);
  EXPECT_EQ(
      Parse({"--profile", "staging", "ls"}),
      "--profile staging (or DIM_PROFILE): no such profile in " + f + " (its profiles: lab, prod)");
  const std::string g = Config("profile = \"lba\"\n[profiles.lab]\n");
  EXPECT_EQ(CommandTree().Parse(kLs),
            g + ":1: profile: no profile 'lba' in " + g + " (its profiles: lab)");
  const std::string h = Config("# nothing yet\n");
  EXPECT_EQ(CommandTree().Parse({"--profile", "lab", "ls"}),
            "--profile lab (or DIM_PROFILE): no such profile in " + h + " (it has none)");
}

TEST_F(ClientProfilesTest, ANamedProfileNeedsAConfigFile) {
  EXPECT_EQ(Parse({"--profile", "lab", "ls"}),
            "--profile lab (or DIM_PROFILE): no config file " + In(".config/dim/config.toml"));
}

TEST_F(ClientProfilesTest, ProblemsNameFileLineAndKey) {
  const std::string f = Config(
      "profile = \"lab\"\n"
      "server = \"top:1\"\n"
      "profils = 1\n"
      "[profiles.lab]\n"
      "srver = \"x:1\"\n"
      "local = \"yes\"\n"
      "rpc-timeout = 0\n"
      "server = \"nonsense\"\n"
      "[profiles.other]\n"
      "tls_ca = \"ca.pem\"\n");
  EXPECT_EQ(Parse(kLs),
            f +
                ":2: server: belongs in a profile: put it under [profiles.NAME] and name that "
                "profile in profile = \"NAME\"\n" +
                f + ":3: profils: unknown key (did you mean 'profile'?)\n" +  //
                f + ":5: profiles.lab.srver: unknown key (did you mean 'server'?)\n" + f +
                ":6: profiles.lab.local: expected true or false, got a string\n" + f +
                ":7: profiles.lab.rpc-timeout: must be > 0, got 0\n" + f +
                ":8: profiles.lab.server: expected HOST:PORT, got 'nonsense' (given here "
                "or in DIM_SERVER)\n" +
                f + ":10: profiles.other.tls_ca: unknown key (did you mean 'tls-ca'?)");
}

TEST_F(ClientProfilesTest, AProfileValueGetsTheFlagsMessage) {
  const std::string f = Config("profile = \"p\"\n[profiles.p]\noutput = \"yaml\"\n");
  CommandTree flag;
  const std::string flag_message = flag.Parse({"-o", "yaml", "ls"});
  ASSERT_THAT(flag_message, StartsWith("--output: "));
  EXPECT_EQ(Parse(kLs), f + ":3: profiles.p.output: " + flag_message.substr(10));
}

TEST_F(ClientProfilesTest, LocalNodesAreListedOnce) {
  Config(
      "profile = \"here\"\n"
      "[profiles.here]\n"
      "local = true\n"
      "local-db = \":memory:\"\n"
      "models = \"models\"\n"
      "local-node = [\"a=data/a.csv\", \"b:heart=/srv/b.csv\"]\n"
      "local-policy = [\"a=policy.json\"]\n");
  ASSERT_EQ(Parse(kLs), "");
  const GlobalOptions& o = dim_.options();
  EXPECT_TRUE(o.local);
  EXPECT_EQ(o.local_db, ":memory:");
  EXPECT_EQ(o.models_dir, In("models"));
  EXPECT_EQ(o.local_nodes,
            (std::vector<std::string>{"a=" + In("data/a.csv"), "b:heart=/srv/b.csv"}));
  EXPECT_EQ(o.local_policies, (std::vector<std::string>{"a=" + In("policy.json")}));

  // Flags replace the profile's list; --local=false turns its local off.
  CommandTree flags;
  ASSERT_EQ(flags.Parse({"--local=false", "--local-node", "c=c.csv", "ls"}), "");
  EXPECT_FALSE(flags.options().local);
  EXPECT_EQ(flags.options().local_nodes, (std::vector<std::string>{"c=c.csv"}));
}

TEST_F(ClientProfilesTest, TokenFileFromAProfileIsReadOnUse) {
  Config("profile = \"p\"\n[profiles.p]\ntoken-file = \"t\"\n");
  Write("t", "  s3cret-token\t\nsecond line\n");
  ASSERT_EQ(Parse(kLs), "");
  auto security = LoadClientSecurity(dim_.options());
  ASSERT_TRUE(security.ok()) << security.status().message();
  EXPECT_EQ(security->authorization(), "Bearer s3cret-token");
}

TEST_F(ClientProfilesTest, ATokenGivenOtherwiseKeepsTheProfilesTokenFileOut) {
  Config("profile = \"p\"\n[profiles.p]\ntoken-file = \"t\"\n");
  setenv("DIM_TOKEN", "from-env", 1);  // NOLINT(concurrency-mt-unsafe)
  ASSERT_EQ(Parse(kLs), "");
  EXPECT_EQ(dim_.options().token_file, "");
  auto security = LoadClientSecurity(dim_.options());
  ASSERT_TRUE(security.ok()) << security.status().message();
  EXPECT_EQ(security->authorization(), "Bearer from-env");
}

class TokenFileTest : public testing::ScratchDirTest {
 protected:
  core::Result<net::ClientSecurity> Load(const std::string& token_file, std::string token = {}) {
    GlobalOptions o;
    o.token_file = token_file;
    o.token = std::move(token);
    return LoadClientSecurity(o);
  }
};

TEST_F(TokenFileTest, ReadsTheFirstLine) {
  auto s = Load(Write("t", "abc123\r\n").string());
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->authorization(), "Bearer abc123");
}

TEST_F(TokenFileTest, RefusesWhatIsNotAToken) {
  const std::string missing = (dir_ / "missing").string();
  EXPECT_EQ(Load(missing).status().message(), "--token-file " + missing + ": no such file");
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(Load(fifo).status().message(),
            "--token-file " + fifo + ": not a regular file (a FIFO)");
  const std::string empty = Write("empty", "\nabc\n").string();
  EXPECT_EQ(Load(empty).status().message(), "--token-file " + empty + ": the first line is empty");
  const std::string spaced = Write("spaced", "ab c\n").string();
  EXPECT_EQ(Load(spaced).status().message(),
            "--token-file " + spaced + ": the token must be printable, without spaces");
  const std::string big = Write("big", std::string(100 * 1024, 'a')).string();
  EXPECT_THAT(Load(big).status().message(), HasSubstr("larger than"));
}

TEST_F(TokenFileTest, RefusesTwoTokens) {
  const std::string t = Write("t", "abc\n").string();
  EXPECT_EQ(Load(t, "other").status().message(),
            "--token-file " + t + ": a token is also given by --token or DIM_TOKEN; give only one");
}

}  // namespace
}  // namespace dim::cli
