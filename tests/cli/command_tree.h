// Test-only: the real `dim` command tree (every command's options, validators and config
// files), parsed up to the point where a command would run, so that a test looks at what a
// command line set without starting a service or calling a server.
#pragma once

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/client_profiles.h"
#include "cli/commands.h"
#include "cli/global_options.h"

namespace dim::testing {

class CommandTree {
 public:
  CommandTree() {
    cli::AddGlobalOptions(app_, options_);
    cli::AddServeCommands(app_, options_, exit_code_);
    cli::AddJobCommands(app_, options_, exit_code_);
    cli::AddModelCommands(app_, options_, exit_code_);
    cli::AddSecurityCommands(app_, options_, exit_code_);
    // The commands run after the top level's parse_complete_callback (the client's profile,
    // ApplyClientProfileOnParse): the same, then a stop. (Replacing the commands' callbacks
    // instead would free the options they own.)
    app_.parse_complete_callback([this] {
      cli::ApplyClientProfileAfterParse(app_, options_.profile);
      throw Parsed{};
    });
  }
  CommandTree(const CommandTree&) = delete;  // the callback above holds `this`
  CommandTree& operator=(const CommandTree&) = delete;

  // Parses `dim ARGS...`: "" when it succeeds, else the error's message (what dim prints).
  // The help flags give "help".
  std::string Parse(const std::vector<std::string>& args) {
    std::vector<const char*> argv = {"dim"};
    for (const auto& a : args) argv.push_back(a.c_str());
    try {
      app_.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const Parsed&) {
      return "";
    } catch (const CLI::CallForHelp&) {
      return "help";
    } catch (const CLI::ParseError& e) {
      return e.what();
    }
    ADD_FAILURE() << "the command line was parsed, but the stop before its command was not";
    return "";
  }

  const cli::GlobalOptions& options() const { return options_; }
  CLI::App& app() { return app_; }

  // An option of `dim SERVICE serve`, e.g. Serve("orchestrator", "--listen").
  CLI::Option* Serve(const std::string& service, const std::string& name) {
    return app_.get_subcommand(service)->get_subcommand("serve")->get_option(name);
  }
  // Its value, as the command line or the file gave it (transforms applied: "512M" reads
  // "536870912").
  std::string ServeValue(const std::string& service, const std::string& name) {
    const auto& results = Serve(service, name)->results();
    return results.empty() ? std::string() : results.back();
  }

 private:
  struct Parsed {};  // thrown where the command would run

  CLI::App app_{"dim", "dim"};
  cli::GlobalOptions options_;
  int exit_code_ = 0;
};

// Unsets the variables the client and the services read, and points HOME (and so the
// client's default config file) at `home`, so that the user's own settings stay out.
inline void ClearDimEnvironment(const std::string& home) {
  for (const char* name :
       {"DIM_CONFIG", "DIM_PROFILE", "DIM_SERVER", "DIM_TOKEN", "DIM_LOG_FORMAT", "DIM_LOCAL_DB",
        "DIM_MODELS", "DIM_TLS_CA", "DIM_TLS_CERT", "DIM_TLS_KEY", "XDG_CONFIG_HOME"}) {
    unsetenv(name);  // NOLINT(concurrency-mt-unsafe): tests run one at a time
  }
  setenv("HOME", home.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
}

}  // namespace dim::testing
