// dim orchestrator serve --config FILE, dim daemon serve --config FILE: a service's options
// in a TOML file, so that a unit file or a container need not list them as flags.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace dim::cli {

// Adds --config FILE to `serve`, a service's command under `app`. The file's keys are the
// long names of `serve`'s options, and of the global options of `app` named in
// `global_keys` (log-level, ...): `listen = "0.0.0.0:50051"`, `dataset = ["a=a.csv"]`,
// `insecure = true`, `max-model-bytes = "512M"`. The file is read once the command line is
// parsed, before the command's required options are checked; every value goes through its
// option's validators. An option given on the command line or by its environment variable
// keeps that value. Every problem in the file is reported at once as a CLI::ConfigError,
// one a line: "FILE:LINE: KEY: why" (an option of the other service, or `config` itself, is
// an unknown key, and says so). With --help, the file is not read.
void AddServiceConfigOption(CLI::App& app, CLI::App& serve, std::vector<std::string> global_keys);

}  // namespace dim::cli
