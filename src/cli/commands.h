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

// Sets up spdlog on stderr at --log-level (or `fallback`) in --log-format. `role`
// ("orchestrator", "daemon") and `node_id` name the process in each line; both "" for the
// client.
void SetUpLogging(const GlobalOptions& options, const std::string& fallback,
                  const std::string& role = {}, const std::string& node_id = {});

}  // namespace dim::cli
