// What `dim ... --help` prints: each option with a placeholder people read (HOST:PORT, FILE,
// SECONDS, SIZE, table|json) rather than CLI11's type names and validator descriptions, the
// command's own options, then the global options it reads, then examples.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace dim::cli {

// The help formatter of every dim command. An option shows as "-p, --pattern PATTERN" and
// its description, wrapped, followed by "[default: X]", "[env: DIM_X]" and "[required]"
// where they apply; positionals are listed under "Arguments", commands under "Commands";
// a command's help then lists the global options ("Global options": all of them for a
// client command, only those a service reads for `orchestrator serve` / `daemon serve`),
// and ends with the command's footer (its examples, see SetUpHelp).
class HelpFormatter final : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string name,
                        CLI::AppFormatMode mode) const override;
  std::string make_usage(const CLI::App* app, std::string name) const override;
  std::string make_option_name(const CLI::Option* opt, bool is_positional) const override;
  std::string make_option_opts(const CLI::Option* opt) const override;
  std::string make_option_desc(const CLI::Option* opt) const override;
  std::string make_option_usage(const CLI::Option* opt) const override;
  std::string make_option(const CLI::Option* opt, bool is_positional) const override;
  std::string make_subcommand(const CLI::App* sub) const override;
};

// The placeholder of an option's value: its option_text or type_name when one was set
// (->type_name("FILE")), else what its validators check (HOST:PORT, SIZE, SECONDS, NUMBER,
// ID, NAME, N; the choices of an IsMember or a transformer as a|b|c), else, for a
// positional, its name in capitals; "VALUE" when nothing says more. Empty for a flag.
std::string OptionPlaceholder(const CLI::Option& opt);

// "dim submit", "dim orchestrator serve": the command's name with its parents'.
std::string CommandPath(const CLI::App& app);

// The examples of a command ("submit", "orchestrator serve"; "" for dim itself): complete
// command lines, each correct for this dim. Empty for a command that has none.
std::vector<std::string> CommandExamples(const std::string& path);

// Installs HelpFormatter on `app` and on every command under it, and sets each command's
// footer to its examples ("Examples:" then one per line). Call once the command tree is
// built, before parsing.
void SetUpHelp(CLI::App& app);

}  // namespace dim::cli
