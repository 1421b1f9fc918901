// Command lines dim cannot parse, and what it says about them (src/cli/usage_error.h).
#include "cli/usage_error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/help_text.h"
#include "tests/cli/command_tree.h"
#include "tests/core/test_support.h"

namespace dim::cli {
namespace {

using testing::CommandTree;

class UsageErrorTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override { testing::ClearDimEnvironment(dir_.path().string()); }

  // What dim says of `dim ARGS...`; "" when it parses.
  std::string Error(const std::vector<std::string>& args) {
    CommandTree dim;
    SetUpHelp(dim.app());
    std::vector<const char*> argv = {"dim"};
    for (const auto& a : args) argv.push_back(a.c_str());
    try {
      dim.app().parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::ParseError& e) {
      return ParseErrorMessage(dim.app(), e);
    } catch (...) {
      return "";  // CommandTree's stop where the command would run
    }
    return "";
  }
};

TEST_F(UsageErrorTest, AnUnknownOptionWinsOverAMissingRequiredOne) {
  EXPECT_EQ(Error({"submit", "--patern", "x"}),
            "unknown option --patern (did you mean --pattern?)");
  EXPECT_EQ(Error({"submit", "--patern=x"}), "unknown option --patern (did you mean --pattern?)");
  EXPECT_EQ(Error({"daemon", "serve", "--node-idd", "n"}),
            "unknown option --node-idd (did you mean --node-id?)");
  EXPECT_EQ(Error({"submit", "-p", "collaborative", "--pat"}),
            "unknown option --pat (did you mean --pattern?)");
}

TEST_F(UsageErrorTest, GlobalOptionsAreSuggestedToo) {
  EXPECT_EQ(Error({"ls", "--sever", "h:1"}), "unknown option --sever (did you mean --server?)");
  EXPECT_EQ(Error({"ls", "--wibble"}), "unknown option --wibble");
}

TEST_F(UsageErrorTest, UnknownCommandsAndExtraArguments) {
  EXPECT_EQ(Error({"stauts", "job-1"}), "unknown command 'stauts' (did you mean status?)");
  EXPECT_EQ(Error({"model", "pussh", "x.onnx"}), "unknown command 'pussh' (did you mean push?)");
  EXPECT_EQ(Error({"ls", "extra"}), "unexpected argument 'extra'");
  EXPECT_EQ(Error({"orchestrator"}), "a command is required: serve");
}

TEST_F(UsageErrorTest, MissingArgumentsAndBadValuesInWords) {
  EXPECT_EQ(Error({"status"}), "missing JOB (usage: dim [GLOBAL OPTIONS] status [OPTIONS] JOB)");
  EXPECT_EQ(Error({"submit"}), "--pattern is required");
  EXPECT_EQ(Error({"-o", "xml", "ls"}), "--output: expected table|json, got 'xml'");
  EXPECT_EQ(Error({"ls", "--limit", "0"}), "--limit: expected a number from 1 to 1000, got '0'");
  EXPECT_EQ(Error({"submit", "-p", "c", "--priority", "urgent"}),
            "--priority: expected low|normal|high, got 'urgent'");
  EXPECT_EQ(Error({"submit", "-p", "c", "--timeout"}),
            "--timeout: a value is missing (--timeout SECONDS)");
  EXPECT_EQ(Error({"ls", "-n", "1", "-n", "2"}), "--limit: given 2 times; give it once");
  EXPECT_EQ(Error({"orchestrator", "serve", "--max-model-bytes", "5Q"}),
            "--max-model-bytes: unknown unit 'q' (a size is bytes, or 512K, 16M, 2G)");
  // dim's own validators speak for themselves.
  EXPECT_EQ(Error({"orchestrator", "serve", "--listen", "nonsense"}),
            "--listen: expected HOST:PORT, got 'nonsense'");
  EXPECT_EQ(Error({"status", "job-1"}), "");
}

TEST(ClosestMatch, TyposAndPrefixes) {
  const std::vector<std::string> names = {"--pattern", "--priority", "--wait", "--node", "--nodes"};
  EXPECT_EQ(ClosestMatch("--patern", names), "--pattern");
  EXPECT_EQ(ClosestMatch("--pat", names), "--pattern");
  EXPECT_EQ(ClosestMatch("--wiat", names), "--wait");
  EXPECT_EQ(ClosestMatch("--nodez", names), "--node");
  EXPECT_EQ(ClosestMatch("--completely-else", names), "");
  EXPECT_EQ(ClosestMatch("--", names), "");
}

}  // namespace
}  // namespace dim::cli
