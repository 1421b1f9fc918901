// dim orchestrator serve --config FILE, dim daemon serve --config FILE, against the real
// option set (src/cli/service_config.h).
#include "cli/service_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/cli/command_tree.h"
#include "tests/core/test_support.h"

namespace dim::cli {
namespace {

using testing::CommandTree;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ServiceConfigTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override { testing::ClearDimEnvironment(dir_.path().string()); }

  std::string File(const std::string& text) { return Write("service.toml", text).string(); }

  // The message dim gives for `args` on the command line, without the option's name:
  // what the file's message must say after "FILE:LINE: KEY: ".
  std::string FlagMessage(const std::vector<std::string>& args, const std::string& flag) {
    const std::string message = CommandTree().Parse(args);
    EXPECT_THAT(message, StartsWith(flag + ": "));
    return message.substr(flag.size() + 2);
  }

  CommandTree dim_;
};

TEST_F(ServiceConfigTest, TheOrchestratorTakesItsOptionsFromTheFile) {
  const std::string f = File(
      "listen = \"0.0.0.0:50051\"\n"
      "metrics-listen = \"127.0.0.1:0\"\n"
      "db = \"/var/lib/dim/jobs.db\"\n"
      "node = [\"a=10.0.0.1:50052\", \"b=10.0.0.2:50052\"]\n"
      "insecure = true\n"
      "max-model-bytes = \"512M\"\n"
      "max-message-bytes = 1048576\n"
      "heartbeat-timeout = 2.5\n"
      "workers = 4\n"
      "log-level = \"debug\"\n"
      "log-format = \"json\"\n");
  ASSERT_EQ(dim_.Parse({"orchestrator", "serve", "--config", f}), "");
  EXPECT_EQ(dim_.ServeValue("orchestrator", "--listen"), "0.0.0.0:50051");
  EXPECT_EQ(dim_.ServeValue("orchestrator", "--metrics-listen"), "127.0.0.1:0");
  EXPECT_EQ(dim_.ServeValue("orchestrator", "--db"), "/var/lib/dim/jobs.db");
  EXPECT_EQ(dim_.Serve("orchestrator", "--node")->results(),
            (std::vector<std::string>{"a=10.0.0.1:50052", "b=10.0.0.2:50052"}));
  EXPECT_TRUE(dim_.Serve("orchestrator", "--insecure")->as<bool>());
  EXPECT_EQ(dim_.ServeValue("orchestrator", "--max-model-bytes"), "536870912");
  EXPECT_EQ(dim_.ServeValue("orchestrator", "--max-message-bytes"), "1048576");
  EXPECT_EQ(dim_.Serve("orchestrator", "--heartbeat-timeout")->as<double>(), 2.5);
  EXPECT_EQ(dim_.Serve("orchestrator", "--max-concurrent-jobs")->as<int>(), 4);
  EXPECT_EQ(dim_.options().log_level, "debug");
  EXPECT_EQ(dim_.options().log_format, LogFormat::kJson);
}

TEST_F(ServiceConfigTest, TheDaemonsRequiredNodeIdMayComeFromTheFile) {
  const std::string f = File(
      "node-id = \"hospital-a\"\n"
      "dataset = [\"default=/srv/a.csv\"]\n"
      "label = [\"region=eu\"]\n"
      "cache-max-bytes = \"2G\"\n"
      "device = \"cpu\"\n");
  ASSERT_EQ(dim_.Parse({"daemon", "serve", "--config", f}), "");
  EXPECT_EQ(dim_.ServeValue("daemon", "--node-id"), "hospital-a");
  EXPECT_EQ(dim_.ServeValue("daemon", "--dataset"), "default=/srv/a.csv");
  EXPECT_EQ(dim_.ServeValue("daemon", "--cache-max-bytes"), "2147483648");
}

TEST_F(ServiceConfigTest, ARequiredOptionMissingFromBothIsStillRequired) {
  EXPECT_EQ(dim_.Parse({"daemon", "serve", "--config", File("listen = \"127.0.0.1:0\"\n")}),
            "--node-id is required");
}

TEST_F(ServiceConfigTest, FlagsOverrideTheFile) {
  const std::string f = File(
      "listen = \"0.0.0.0:50051\"\n"
      "db = \"file.db\"\n"
      "node = [\"a=h:1\"]\n"
      "log-level = \"debug\"\n");
  // Before and after --config, and a global option after the command.
  ASSERT_EQ(dim_.Parse({"orchestrator", "serve", "--listen", "127.0.0.1:7", "--config", f, "--db",
                        "flag.db", "--node", "b=h:2", "--log-level", "warn"}),
            "");
  EXPECT_EQ(dim_.ServeValue("orchestrator", "--listen"), "127.0.0.1:7");
  EXPECT_EQ(dim_.ServeValue("orchestrator", "--db"), "flag.db");
  EXPECT_EQ(dim_.Serve("orchestrator", "--node")->results(), (std::vector<std::string>{"b=h:2"}));
  EXPECT_EQ(dim_.options().log_level, "warn");
}

TEST_F(ServiceConfigTest, AnEnvironmentVariableOverridesTheFile) {
  setenv("DIM_LOG_FORMAT", "text", 1);  // NOLINT(concurrency-mt-unsafe)
  ASSERT_EQ(dim_.Parse({"orchestrator", "serve", "--config", File("log-format = \"json\"\n")}), "");
  EXPECT_EQ(dim_.options().log_format, LogFormat::kText);
}

TEST_F(ServiceConfigTest, AValueTheOptionRefusesGivesTheFlagsMessage) {
  const std::string f = File("db = \"x.db\"\nlisten = \"nonsense\"\n");
  EXPECT_EQ(dim_.Parse({"orchestrator", "serve", "--config", f}),
            f + ":2: listen: " +
                FlagMessage({"orchestrator", "serve", "--listen", "nonsense"}, "--listen"));
  CommandTree daemon;
  const std::string g = File("node-id = \"bad id!\"\n");
  EXPECT_EQ(
      daemon.Parse({"daemon", "serve", "--config", g}),
      g + ":1: node-id: " + FlagMessage({"daemon", "serve", "--node-id", "bad id!"}, "--node-id"));
  CommandTree sizes;
  const std::string h = File("max-model-bytes = \"-5K\"\n");
  EXPECT_EQ(
      sizes.Parse({"orchestrator", "serve", "--config", h}),
      h + ":1: max-model-bytes: " +
          FlagMessage({"orchestrator", "serve", "--max-model-bytes=-5K"}, "--max-model-bytes"));
}

TEST_F(ServiceConfigTest, AnUnknownKeyIsNamedWithTheNearestOption) {
  const std::string f = File("\nlisten_addr = \"x\"\nmetrics_listen = \"127.0.0.1:0\"\n");
  EXPECT_EQ(dim_.Parse({"orchestrator", "serve", "--config", f}),
            f + ":2: listen_addr: unknown key\n" + f +
                ":3: metrics_listen: unknown key (did you mean 'metrics-listen'?)");
}

TEST_F(ServiceConfigTest, OneServicesKeysAreNotTheOthers) {
  const std::string f = File("node-id = \"a\"\ndataset = [\"d=x.csv\"]\n");
  EXPECT_EQ(dim_.Parse({"orchestrator", "serve", "--config", f}),
            f +
                ":1: node-id: not an option of dim orchestrator serve (it is one of dim daemon "
                "serve)\n" +
                f +
                ":2: dataset: not an option of dim orchestrator serve (it is one of dim daemon "
                "serve)");
  CommandTree daemon;
  const std::string g = File("node-id = \"a\"\ndb = \"x.db\"\n");
  EXPECT_EQ(daemon.Parse({"daemon", "serve", "--config", g}),
            g + ":2: db: not an option of dim daemon serve (it is one of dim orchestrator serve)");
}

TEST_F(ServiceConfigTest, ClientOptionsAndConfigItselfAreRefused) {
  const std::string f = File("server = \"h:1\"\nconfig = \"other.toml\"\nhelp = true\n");
  EXPECT_EQ(dim_.Parse({"orchestrator", "serve", "--config", f}),
            f + ":1: server: a client option, which dim orchestrator serve does not read\n" + f +
                ":2: config: a config file cannot name another (give --config on the command "
                "line)\n" +
                f + ":3: help: unknown key");
}

TEST_F(ServiceConfigTest, AValueOfTheWrongType) {
  const std::string f = File(
      "insecure = \"yes\"\n"
      "listen = [\"127.0.0.1:1\"]\n"
      "db = true\n"
      "node = [{ a = 1 }]\n"
      "[tls]\n"
      "cert = \"x\"\n");
  EXPECT_EQ(dim_.Parse({"orchestrator", "serve", "--config", f}),
            f + ":1: insecure: expected true or false, got a string\n" + f +
                ":2: listen: expected a string or a number, got an array\n" + f +
                ":3: db: expected a string or a number, got a boolean\n" + f +
                ":4: node: expected an array of strings or numbers, got a table in it\n" + f +
                ":5: tls: unknown key");
}

TEST_F(ServiceConfigTest, FileErrorsNameTheFile) {
  const std::string missing = (dir_ / "missing.toml").string();
  EXPECT_EQ(dim_.Parse({"orchestrator", "serve", "--config", missing}), missing + ": no such file");
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(CommandTree().Parse({"orchestrator", "serve", "--config", fifo}),
            fifo + ": not a regular file (a FIFO)");
  const std::string big = Write("big.toml", std::string(2 << 20, '#')).string();
  EXPECT_EQ(CommandTree().Parse({"daemon", "serve", "--config", big}),
            big + ": larger than 1048576 bytes");
  const std::string latin1 =
      Write("latin1.toml", "node-id = \"a\"\nlabel = [\"s=\xe9\"]\n").string();
  EXPECT_EQ(CommandTree().Parse({"daemon", "serve", "--config", latin1}),
            latin1 + ":2: not valid UTF-8");
  const std::string syntax =
      Write("syntax.toml", "node-id = \"a\"\nlisten = 127.0.0.1:1\n").string();
  EXPECT_THAT(CommandTree().Parse({"daemon", "serve", "--config", syntax}),
              StartsWith(syntax + ":2:"));
}

TEST_F(ServiceConfigTest, HelpDoesNotReadTheFile) {
  EXPECT_EQ(dim_.Parse({"orchestrator", "serve", "--config", "/no/such.toml", "--help"}), "help");
}

TEST_F(ServiceConfigTest, TheServicesIgnoreTheClientsProfiles) {
  setenv("DIM_CONFIG", Write("client.toml", "this is not toml").c_str(), 1);  // NOLINT
  EXPECT_EQ(dim_.Parse({"orchestrator", "serve", "--listen", "127.0.0.1:0"}), "");
}

// The examples in dist/config load against the real option set.
TEST_F(ServiceConfigTest, TheExampleOrchestratorFileLoads) {
  const auto path = testing::SourceRoot() / "dist" / "config" / "orchestrator.toml";
  ASSERT_TRUE(std::filesystem::exists(path)) << "set DIM_SOURCE_ROOT (looked for " << path << ")";
  EXPECT_EQ(dim_.Parse({"orchestrator", "serve", "--config", path.string()}), "");
  EXPECT_FALSE(dim_.ServeValue("orchestrator", "--listen").empty());
}

TEST_F(ServiceConfigTest, TheExampleDaemonFileLoads) {
  const auto path = testing::SourceRoot() / "dist" / "config" / "daemon.toml";
  ASSERT_TRUE(std::filesystem::exists(path)) << "set DIM_SOURCE_ROOT (looked for " << path << ")";
  EXPECT_EQ(dim_.Parse({"daemon", "serve", "--config", path.string()}), "");
  EXPECT_FALSE(dim_.ServeValue("daemon", "--node-id").empty());
}

}  // namespace
}  // namespace dim::cli
