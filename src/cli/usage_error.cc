#include "cli/usage_error.h"

#include <algorithm>
#include <iostream>
#include <regex>
#include <vector>

#include "cli/exit_codes.h"
#include "cli/help_text.h"
#include "cli/output.h"
#include "core/text.h"

namespace dim::cli {
namespace {

// The command the line selected, as far as it was parsed (the root when none).
const CLI::App& DeepestCommand(const CLI::App& app) {
  const CLI::App* a = &app;
  while (!a->get_subcommands().empty()) a = a->get_subcommands().front();
  return *a;
}

// Every name of every option `command` and the commands above it take (the global options
// among them): "--pattern", "-p".
std::vector<std::string> OptionNamesFor(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::App* a = &command; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* o : a->get_options()) {
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
      for (const auto& s : o->get_snames()) names.push_back("-" + s);
    }
  }
  return names;
}

std::vector<std::string> CommandNames(const CLI::App& command) {
  std::vector<std::string> names;
  for (const CLI::App* c : command.get_subcommands({})) {
    if (!c->get_name().empty() && !c->get_disabled()) names.push_back(c->get_name());
  }
  return names;
}

// The option of `command` (or of a command above it) named `name` ("--limit"), or null.
const CLI::Option* FindOption(const CLI::App& command, const std::string& name) {
  for (const CLI::App* a = &command; a != nullptr; a = a->get_parent()) {
    if (const CLI::Option* o = a->get_option_no_throw(name)) return o;
  }
  return nullptr;
}

// CLI11's messages that name its own types and validators, in words: the option's
// placeholder, the values it takes, and what was given.
std::string Reword(const CLI::App& command, const std::string& what) {
  std::smatch m;
  const auto placeholder = [&command](const std::string& name) {
    const CLI::Option* o = FindOption(command, name);
    return o == nullptr ? std::string("a value") : OptionPlaceholder(*o);
  };
  static const std::regex kTransform(R"(^(\S+): Check (.*) value in \{.*\} OR \{.*\} FAILED$)");
  static const std::regex kMember(R"(^(\S+): (.*) not in \{(.*)\}$)");
  static const std::regex kRange(R"(^(\S+): Value (.*) not in range (.*) to (.*)$)");
  static const std::regex kMissingValue(R"(^(\S+): \d+ required .* missing$)");
  static const std::regex kTwice(R"(^(\S+): At Most 1 required but received (\d+)$)");
  static const std::regex kUnit(R"(^(\S+): (.*) unit not recognized\..*$)");
  if (std::regex_match(what, m, kTransform)) {
    return m[1].str() + ": expected " + placeholder(m[1]) + ", got '" + m[2].str() + "'";
  }
  if (std::regex_match(what, m, kMember)) {
    std::string choices = m[3].str();
    std::replace(choices.begin(), choices.end(), ',', '|');
    return m[1].str() + ": expected " + choices + ", got '" + m[2].str() + "'";
  }
  if (std::regex_match(what, m, kRange)) {
    return m[1].str() + ": expected a number from " + m[3].str() + " to " + m[4].str() + ", got '" +
           m[2].str() + "'";
  }
  if (std::regex_match(what, m, kMissingValue)) {
    return m[1].str() + ": a value is missing (" + m[1].str() + " " + placeholder(m[1]) + ")";
  }
  if (std::regex_match(what, m, kTwice)) {
    return m[1].str() + ": given " + m[2].str() + " times; give it once";
  }
  if (std::regex_match(what, m, kUnit)) {
    return m[1].str() + ": unknown unit '" + m[2].str() + "' (a size is bytes, or 512K, 16M, 2G)";
  }
  return what;
}

std::string DidYouMean(const std::string& match) {
  return match.empty() ? std::string() : " (did you mean " + match + "?)";
}

}  // namespace

std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  // A word that begins just one candidate ("--pat") means that one.
  std::vector<std::string> prefixed;
  for (const auto& c : candidates) {
    if (c.size() > word.size() && c.compare(0, word.size(), word) == 0 &&
        std::find(prefixed.begin(), prefixed.end(), c) == prefixed.end()) {
      prefixed.push_back(c);
    }
  }
  if (prefixed.size() == 1 && word.find_first_not_of('-') != std::string::npos) {
    return prefixed.front();
  }
  // Else the nearest within a few edits (fewer for short words).
  return core::Nearest(word, candidates, std::max<size_t>(2, word.size() / 3));
}

std::string ParseErrorMessage(const CLI::App& app, const CLI::ParseError& error) {
  const CLI::App& command = DeepestCommand(app);
  const std::vector<std::string> extras = app.remaining(/*recurse=*/true);
  if (!extras.empty()) {
    // The first option nobody takes; else the first word.
    const auto option = std::find_if(extras.begin(), extras.end(), [](const std::string& w) {
      return w.size() > 1 && w[0] == '-';
    });
    if (option != extras.end()) {
      const std::string name = option->substr(0, option->find('='));
      return "unknown option " + name + DidYouMean(ClosestMatch(name, OptionNamesFor(command)));
    }
    const std::string& word = extras.front();
    if (const auto commands = CommandNames(command); !commands.empty()) {
      return "unknown command '" + word + "'" + DidYouMean(ClosestMatch(word, commands));
    }
    return "unexpected argument '" + word + "'";
  }
  const std::string what = error.what();
  if (what == "A subcommand is required") {
    std::string list;
    for (const auto& c : CommandNames(command)) list += (list.empty() ? "" : ", ") + c;
    return "a command is required: " + list;
  }
  // "job is required": a positional argument, named as the usage line names it.
  for (const CLI::Option* p :
       command.get_options([](const CLI::Option* o) { return o->get_positional(); })) {
    if (what == p->get_name(true, false) + " is required") {
      std::string usage = HelpFormatter().make_usage(&command, CommandPath(command));
      usage = usage.substr(usage.find(' ') + 1);
      while (!usage.empty() && usage.back() == '\n') usage.pop_back();
      return "missing " + OptionPlaceholder(*p) + " (usage: " + usage + ")";
    }
  }
  return Reword(command, what);
}

int ReportParseError(CLI::App& app, const CLI::ParseError& error, int argc, char** argv) {
  if (error.get_exit_code() == 0) {  // --help, --help-all, --version
    app.exit(error);
    return kExitOk;
  }
  const std::string message = ParseErrorMessage(app, error);
  if (AsksForJson(argc, argv)) return ReportUsageError(message);
  std::cerr << "dim: error: " << message << "\nSee '" << CommandPath(DeepestCommand(app))
            << " --help'.\n";
  return kExitUsage;
}

}  // namespace dim::cli
