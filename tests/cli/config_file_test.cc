// Reading TOML config files and putting their keys on CLI11 options (src/cli/config_file.h).
#include "cli/config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "tests/core/test_support.h"

namespace dim::cli {
namespace {

using ::testing::HasSubstr;
using Type = ConfigNode::Type;

class ConfigFileTest : public testing::ScratchDirTest {
 protected:
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }
  std::string Written(const std::string& name, const std::string& text) const {
    return Write(name, text).string();
  }
};

TEST_F(ConfigFileTest, ReadsValuesWithTheirLines) {
  const std::string path = Written("a.toml",
                                   "# comment\n"
                                   "listen = \"0.0.0.0:1\"\n"
                                   "workers = 16\n"
                                   "timeout = 2.5\n"
                                   "insecure = true\n"
                                   "node = [\"a=h:1\",\n  \"b=h:2\"]\n"
                                   "when = 1979-05-27\n"
                                   "[profiles.lab]\n"
                                   "server = \"x:1\"\n");
  auto root = ReadConfigFile(path);
  ASSERT_TRUE(root.ok()) << root.status().message();
  ASSERT_EQ(root->children.size(), 7u);
  // In file order, not toml++'s sorted order.
  const std::vector<std::string> keys = {"listen", "workers", "timeout", "insecure",
                                         "node",   "when",    "profiles"};
  for (size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(root->children[i].key, keys[i]);
  EXPECT_EQ(root->Find("listen")->text, "0.0.0.0:1");
  EXPECT_EQ(root->Find("listen")->line, 2);
  EXPECT_EQ(root->Find("workers")->type, Type::kInteger);
  EXPECT_EQ(root->Find("workers")->text, "16");
  EXPECT_EQ(root->Find("timeout")->text, "2.5");
  EXPECT_EQ(root->Find("insecure")->text, "true");
  const ConfigNode* node = root->Find("node");
  ASSERT_EQ(node->type, Type::kArray);
  ASSERT_EQ(node->children.size(), 2u);
  EXPECT_EQ(node->children[1].text, "b=h:2");
  EXPECT_EQ(node->children[1].line, 7);
  EXPECT_EQ(root->Find("when")->type, Type::kDateTime);
  const ConfigNode* lab = root->Find("profiles")->Find("lab");
  ASSERT_NE(lab, nullptr);
  EXPECT_EQ(lab->Find("server")->line, 10);
}

TEST_F(ConfigFileTest, RefusesAMissingFile) {
  auto root = ReadConfigFile(Path("none.toml"));
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), core::StatusCode::kNotFound);
  EXPECT_EQ(root.status().message(), Path("none.toml") + ": no such file");
}

TEST_F(ConfigFileTest, RefusesAFifoWithoutWaitingOnIt) {
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0600), 0);
  auto root = ReadConfigFile(Path("fifo"));
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().message(), Path("fifo") + ": not a regular file (a FIFO)");
}

TEST_F(ConfigFileTest, RefusesAFolder) {
  auto root = ReadConfigFile(dir_.path().string());
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr("not a regular file"));
}

TEST_F(ConfigFileTest, RefusesAFileLargerThanAMebibyte) {
  const std::string path = Written("big.toml", std::string(kMaxConfigFileBytes + 1, '#'));
  auto root = ReadConfigFile(path);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().message(), path + ": larger than 1048576 bytes");
}

TEST_F(ConfigFileTest, NamesTheLineThatIsNotUtf8) {
  const std::string path = Written("bad.toml", "a = 1\nb = 2\nc = \"caf\xe9\"\n");
  auto root = ReadConfigFile(path);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().message(), path + ":3: not valid UTF-8");
}

TEST_F(ConfigFileTest, NamesTheLineAndColumnOfASyntaxError) {
  const std::string path = Written("syntax.toml", "a = 1\nlisten = \n");
  auto root = ReadConfigFile(path);
  ASSERT_FALSE(root.ok());
  EXPECT_EQ(root.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(root.status().message(), HasSubstr(path + ":2:10: "));
}

TEST_F(ConfigFileTest, NamesTheLineOfAKeyGivenTwice) {
  const std::string path = Written("twice.toml", "a = 1\n\na = 2\n");
  auto root = ReadConfigFile(path);
  ASSERT_FALSE(root.ok());
  EXPECT_THAT(root.status().message(), HasSubstr(path + ":3:"));
}

TEST(NearestKey, SuggestsOnlyCloseKeys) {
  const std::vector<std::string> keys = {"listen", "metrics-listen", "db", "node-id"};
  EXPECT_EQ(NearestKey("listn", keys), "listen");
  EXPECT_EQ(NearestKey("metrics_listen", keys), "metrics-listen");
  EXPECT_EQ(NearestKey("Node-Id", keys), "node-id");
  EXPECT_EQ(NearestKey("nodeid", keys), "node-id");
  EXPECT_EQ(NearestKey("database", keys), "");
  EXPECT_EQ(NearestKey("x", keys), "");
}

// A small command with one option of each kind.
class ApplyConfigTest : public ConfigFileTest {
 protected:
  ApplyConfigTest() {
    app_.add_option("--listen", listen_)->check(CLI::IsMember({"a:1", "b:2"}));
    app_.add_option("--workers,--max-concurrent-jobs", workers_)->check(CLI::Range(1, 8));
    app_.add_option("--node", nodes_);
    app_.add_flag("--insecure", insecure_);
    app_.add_option("--timeout", timeout_);
  }

  // Parses `args`, then applies the file with `text`; the file's problems, or "".
  std::string Apply(const std::vector<std::string>& args, const std::string& text) {
    std::vector<const char*> argv = {"test"};
    for (const auto& a : args) argv.push_back(a.c_str());
    app_.parse(static_cast<int>(argv.size()), argv.data());
    auto root = ReadConfigFile(Written("c.toml", text));
    EXPECT_TRUE(root.ok()) << root.status().message();
    ConfigKeys keys;
    keys.options = OptionsByLongName(app_);
    const core::Status s = ApplyConfig(*root, Path("c.toml"), "", keys);
    return s.ok() ? std::string() : s.message();
  }

  CLI::App app_{"test"};
  std::string listen_ = "default";
  int workers_ = 0;
  std::vector<std::string> nodes_;
  bool insecure_ = false;
  double timeout_ = 0;
};

TEST_F(ApplyConfigTest, SetsEveryKindOfOption) {
  EXPECT_EQ(Apply({},
                  "listen = \"b:2\"\nmax-concurrent-jobs = 4\nnode = [\"x\", \"y\"]\n"
                  "insecure = true\ntimeout = 2.5\n"),
            "");
  EXPECT_EQ(listen_, "b:2");
  EXPECT_EQ(workers_, 4);
  EXPECT_EQ(nodes_, (std::vector<std::string>{"x", "y"}));
  EXPECT_TRUE(insecure_);
  EXPECT_EQ(timeout_, 2.5);
}

TEST_F(ApplyConfigTest, ARepeatableOptionTakesOneValue) {
  EXPECT_EQ(Apply({}, "node = \"x\"\n"), "");
  EXPECT_EQ(nodes_, (std::vector<std::string>{"x"}));
}

TEST_F(ApplyConfigTest, AnEmptyArrayGivesNoValues) {
  EXPECT_EQ(Apply({}, "node = []\n"), "");
  EXPECT_TRUE(nodes_.empty());
}

TEST_F(ApplyConfigTest, TheCommandLineWins) {
  EXPECT_EQ(Apply({"--listen", "a:1", "--node", "z"}, "listen = \"b:2\"\nnode = [\"x\"]\n"), "");
  EXPECT_EQ(listen_, "a:1");
  EXPECT_EQ(nodes_, (std::vector<std::string>{"z"}));
}

TEST_F(ApplyConfigTest, AFalseFlagStaysOff) {
  EXPECT_EQ(Apply({}, "insecure = false\n"), "");
  EXPECT_FALSE(insecure_);
}

TEST_F(ApplyConfigTest, ReportsEveryProblemWithFileLineAndKey) {
  const std::string f = Path("c.toml");
  EXPECT_EQ(Apply({},
                  "listen = \"c:3\"\n"
                  "workrs = 2\n"
                  "insecure = \"yes\"\n"
                  "timeout = [1]\n"
                  "node = [[\"x\"]]\n"
                  "workers = 99\n"
                  "max-concurrent-jobs = 2\n"
                  "[table]\n"),
            f + ":1: listen: c:3 not in {a:1,b:2}\n" +                              //
                f + ":2: workrs: unknown key (did you mean 'workers'?)\n" +         //
                f + ":3: insecure: expected true or false, got a string\n" +        //
                f + ":4: timeout: expected a string or a number, got an array\n" +  //
                f + ":5: node: expected an array of strings or numbers, got an array in it\n" + f +
                ":6: workers: Value 99 not in range 1 to 8\n" + f +
                ":7: max-concurrent-jobs: the same option as workers (line 6)\n" + f +
                ":8: table: unknown key");
}

TEST_F(ApplyConfigTest, AValueTheOptionCannotConvert) {
  EXPECT_EQ(Apply({}, "timeout = \"soon\"\n"),
            Path("c.toml") + ":1: timeout: not a valid value: soon");
}

TEST_F(ApplyConfigTest, CheckConfigSetsNothing) {
  auto root = ReadConfigFile(Written("c.toml", "listen = \"b:2\"\nlistn = 1\n"));
  ASSERT_TRUE(root.ok());
  ConfigKeys keys;
  keys.options = OptionsByLongName(app_);
  const core::Status s = CheckConfig(*root, "F", "p.", keys);
  EXPECT_EQ(s.message(), "F:2: p.listn: unknown key (did you mean 'listen'?)");
  EXPECT_EQ(listen_, "default");
}

}  // namespace
}  // namespace dim::cli
