// The `dim` command tree. Each Add* registers its commands on `app`; the command that runs
// stores its exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/global_options.h"

namespace dim::cli {

void AddGlobalOptions(CLI::App& app, GlobalOptions& options);
// dim orchestrator serve, dim daemon serve
void AddServeCommands(CLI::App& app, GlobalOptions& options, int& exit_code);
// dim submit | status | result | ls | cancel | health
void AddJobCommands(CLI::App& app, GlobalOptions& options, int& exit_code);
// dim model push | ls
void AddModelCommands(CLI::App& app, GlobalOptions& options, int& exit_code);

// dim cert init | issue | show, dim audit
void AddSecurityCommands(CLI::App& app, GlobalOptions& options, int& exit_code);

// Sets up spdlog on stderr at the given level name ("" = fallback).
// `process`: the service's name in each line ("orchestrator", "daemon hospital-a"); "" for
// the client.
void SetUpLogging(const std::string& level, const std::string& fallback,
                  const std::string& process = {});

}  // namespace dim::cli
