// Command lines that CLI11 could not parse, reported in dim's words.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace dim::cli {

// The message for a failed parse of `app`'s command line. An unknown option or a word no
// command takes wins over every other error of that line (CLI11 reports a missing required
// option first, so `dim submit --patern x` would say "--pattern is required"):
// "unknown option --patern (did you mean --pattern?)", "unknown command 'stauts' (did you
// mean status?)", "unexpected argument 'x'". Other errors keep CLI11's message ("--listen:
// expected HOST:PORT, got 'x'"), or say it plainly ("a command is required: serve").
std::string ParseErrorMessage(const CLI::App& app, const CLI::ParseError& error);

// The closest of `candidates` to `word` (a likely typo, or a prefix of just one of them);
// empty when none is close.
std::string ClosestMatch(const std::string& word, const std::vector<std::string>& candidates);

// Reports a failed parse and returns the exit code. --help and --version print what they
// print and give 0. Any other error prints "dim: error: MESSAGE" (ParseErrorMessage) and
// "Run 'dim COMMAND --help' ..." on stderr, with -o json on the line also the JSON error
// document on stdout (ReportUsageError), and gives kExitUsage.
int ReportParseError(CLI::App& app, const CLI::ParseError& error, int argc, char** argv);

}  // namespace dim::cli
