// Every command's --help, on the real command tree (src/cli/help_text.h): readable
// placeholders and no CLI11 internals, the global options, and examples that dim parses.
#include "cli/help_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "tests/cli/command_tree.h"
#include "tests/core/test_support.h"

namespace dim::cli {
namespace {

using testing::CommandTree;
using ::testing::HasSubstr;
using ::testing::Not;

// Every command under `app` (and `app` itself), depth first.
void ForEachCommand(CLI::App& app, const std::function<void(CLI::App&)>& visit) {
  visit(app);
  for (CLI::App* sub : app.get_subcommands([](CLI::App* a) { return !a->get_name().empty(); })) {
    ForEachCommand(*sub, visit);
  }
}

// "submit" for `dim submit`, "" for dim itself.
std::string PathOf(const CLI::App& app) {
  const std::string path = CommandPath(app);
  const auto space = path.find(' ');
  return space == std::string::npos ? "" : path.substr(space + 1);
}

// The words of an example as a shell reads them (quotes, no expansion), up to a redirect,
// a pipe or a comment.
std::vector<std::string> ShellWords(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (char c : line) {
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        word += c;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else if ((c == '>' || c == '|' || c == '#') && !in_word) {
      return words;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

class HelpTextTest : public testing::ScratchDirTest {
 protected:
  void SetUp() override {
    testing::ClearDimEnvironment(dir_.path().string());
    SetUpHelp(dim_.app());
  }

  CommandTree dim_;
};

TEST_F(HelpTextTest, NoCommandShowsCli11Internals) {
  int commands = 0;
  ForEachCommand(dim_.app(), [&](CLI::App& command) {
    ++commands;
    const std::string help = command.help();
    SCOPED_TRACE("dim " + PathOf(command) + " --help:\n" + help);
    for (const char* internal :
         {"TEXT", "ENUM", "INT:", "FLOAT", "UINT", "value in {", "->", "[Option Group", "REQUIRED",
          "(Env:", "SUBCOMMAND", "Positionals:", "[b, kb", "x 2", "Excludes:", "Needs:"}) {
      EXPECT_THAT(help, Not(HasSubstr(internal)));
    }
  });
  EXPECT_GE(commands, 20);
}

TEST_F(HelpTextTest, EveryOptionHasAReadablePlaceholder) {
  ForEachCommand(dim_.app(), [&](CLI::App& command) {
    for (const CLI::Option* o : command.get_options()) {
      const std::string placeholder = OptionPlaceholder(*o);
      SCOPED_TRACE("dim " + PathOf(command) + " " + o->get_name() + " " + placeholder);
      EXPECT_NE(placeholder, "VALUE") << "give it ->type_name(\"FILE\") or the like";
      EXPECT_THAT(placeholder, Not(HasSubstr("{")));
      EXPECT_THAT(placeholder, Not(HasSubstr(" ")));
    }
  });
}

TEST(OptionPlaceholder, ReadsValidatorsAndTypeNames) {
  CLI::App app;
  std::string s;
  int n = 0;
  double d = 0;
  EXPECT_EQ(OptionPlaceholder(*app.add_option("--a", s)->type_name("FILE")), "FILE");
  EXPECT_EQ(OptionPlaceholder(*app.add_option("--b", s)->check(CLI::IsMember({"x", "y"}))), "x|y");
  EXPECT_EQ(OptionPlaceholder(*app.add_option("--c", n)->check(CLI::Range(1, 9))), "N");
  EXPECT_EQ(OptionPlaceholder(*app.add_option("--d", d)), "NUMBER");
  EXPECT_EQ(OptionPlaceholder(*app.add_option("--e", s)->type_name("ID=HOST:PORT")),
            "ID=HOST:PORT");
  EXPECT_EQ(OptionPlaceholder(*app.add_option("job", s)), "JOB");
  EXPECT_EQ(OptionPlaceholder(*app.add_flag("--f")), "");
  EXPECT_EQ(OptionPlaceholder(*app.add_option("--g", s)), "VALUE");
}

TEST_F(HelpTextTest, TheTopLevelHelpListsTheCommandsAndTheGlobalOptions) {
  const std::string help = dim_.app().help();
  EXPECT_THAT(help, HasSubstr("Usage: dim [OPTIONS] COMMAND"));
  EXPECT_THAT(help, HasSubstr("Global options"));
  EXPECT_THAT(help, HasSubstr("  --server HOST:PORT "));
  EXPECT_THAT(help, HasSubstr("  -o, --output table|json "));
  EXPECT_THAT(help, HasSubstr("[default: 127.0.0.1:50051]"));
  EXPECT_THAT(help, HasSubstr("[env: DIM_SERVER]"));
  EXPECT_THAT(help, HasSubstr("\nCommands:\n"));
  EXPECT_THAT(help, HasSubstr("  submit "));
  EXPECT_THAT(help, HasSubstr("\nExamples:\n  dim "));
}

TEST_F(HelpTextTest, EveryCommandListsTheGlobalOptionsAndEndsWithExamples) {
  ForEachCommand(dim_.app(), [&](CLI::App& command) {
    if (command.get_parent() == nullptr) return;
    const std::string help = command.help();
    SCOPED_TRACE("dim " + PathOf(command) + " --help:\n" + help);
    EXPECT_THAT(help, HasSubstr("\nGlobal options"));
    EXPECT_THAT(help, HasSubstr("--log-level LEVEL"));
    const auto examples = help.find("\nExamples:\n  dim ");
    ASSERT_NE(examples, std::string::npos);
    EXPECT_GT(examples, help.find("\nGlobal options"));
  });
}

TEST_F(HelpTextTest, AServiceListsOnlyTheGlobalOptionsItReads) {
  const std::string help = dim_.app().get_subcommand("daemon")->get_subcommand("serve")->help();
  EXPECT_THAT(help, HasSubstr("--log-format text|json"));
  EXPECT_THAT(help, Not(HasSubstr("--server HOST:PORT")));
  const std::string submit = dim_.app().get_subcommand("submit")->help();
  EXPECT_THAT(submit, HasSubstr("--server HOST:PORT"));
  EXPECT_THAT(submit, HasSubstr("-p, --pattern PATTERN"));
  EXPECT_THAT(submit, HasSubstr("[required]"));
  EXPECT_THAT(submit, HasSubstr("Usage: dim [GLOBAL OPTIONS] submit [OPTIONS]"));
  const std::string status = dim_.app().get_subcommand("status")->help();
  EXPECT_THAT(status, HasSubstr("Usage: dim [GLOBAL OPTIONS] status [OPTIONS] JOB"));
  EXPECT_THAT(status, HasSubstr("\nArguments:\n  JOB "));
}

TEST_F(HelpTextTest, SizesShowAsPeopleWriteThem) {
  const std::string help =
      dim_.app().get_subcommand("orchestrator")->get_subcommand("serve")->help();
  EXPECT_THAT(help, HasSubstr("--max-model-bytes SIZE"));
  EXPECT_THAT(help, HasSubstr("[default: 1G]"));
}

TEST_F(HelpTextTest, LongLinesAreWrappedAndExamplesContinuedWithABackslash) {
  ForEachCommand(dim_.app(), [&](CLI::App& command) {
    const std::string help = command.help();
    size_t start = 0;
    for (size_t end = help.find('\n'); end != std::string::npos; end = help.find('\n', start)) {
      EXPECT_LE(end - start, 100u)
          << "dim " << PathOf(command) << ": " << help.substr(start, end - start);
      start = end + 1;
    }
  });
  const std::string help = dim_.app().get_subcommand("daemon")->get_subcommand("serve")->help();
  EXPECT_THAT(help, HasSubstr(" \\\n      --"));
}

// Each command's examples name that command and parse as a real command line (a --config
// file that is not here aside).
TEST_F(HelpTextTest, EveryExampleIsACommandLineOfItsCommand) {
  ForEachCommand(dim_.app(), [&](CLI::App& command) {
    const std::string path = PathOf(command);
    const auto examples = CommandExamples(path);
    EXPECT_GE(examples.size(), command.get_parent() == nullptr ? 3u : 1u) << "dim " << path;
    for (const std::string& example : examples) {
      SCOPED_TRACE(example);
      auto words = ShellWords(example);
      ASSERT_FALSE(words.empty());
      ASSERT_EQ(words.front(), "dim");
      words.erase(words.begin());
      CommandTree tree;
      std::vector<const char*> argv = {"dim"};
      for (const auto& w : words) argv.push_back(w.c_str());
      try {
        tree.app().parse(static_cast<int>(argv.size()), argv.data());
      } catch (const CLI::ConfigError& e) {
        EXPECT_THAT(std::string(e.what()), HasSubstr(".toml")) << "only a missing --config file";
      } catch (const CLI::ParseError& e) {
        ADD_FAILURE() << e.what();
      } catch (...) {
        // CommandTree's stop where the command would run: it parsed.
      }
      const CLI::App* selected = &tree.app();
      while (!selected->get_subcommands().empty()) selected = selected->get_subcommands().front();
      const std::string ran = PathOf(*selected);
      EXPECT_EQ(ran.substr(0, path.size()), path);
    }
  });
}

}  // namespace
}  // namespace dim::cli
