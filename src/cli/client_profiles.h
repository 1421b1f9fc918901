// The client's config file: named profiles of global options, so that a server, its TLS
// files and token, or the nodes of --local are written once instead of on every call.
//
//   profile = "lab"            # the profile used when --profile / DIM_PROFILE names none
//   [profiles.lab]
//   server = "dim.lab.example:50051"
//   tls-ca = "certs/ca.pem"    # relative paths: from this file's folder
//   token-file = "lab.token"
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace dim::cli {

// Where the client's config file is: $DIM_CONFIG, which must then exist; else
// $XDG_CONFIG_HOME/dim/config.toml, else ~/.config/dim/config.toml, either of which may be
// missing.
struct ClientConfigLocation {
  std::string path;    // "" : none (no $HOME)
  bool named = false;  // by $DIM_CONFIG
};
ClientConfigLocation FindClientConfig();

// The keys a profile may hold: long names of global options.
const std::vector<std::string>& ProfileKeys();

// Sets global options of `app` from a profile in the file at `where`: the one `profile`
// names (--profile or $DIM_PROFILE), else the one the file's top-level `profile` names, else
// none. An option given on the command line or by its environment variable keeps that value
// (a profile's list, such as local-node, is replaced by the flags', not added to). Relative
// paths are taken from the file's folder. Every profile is checked for unknown keys and
// wrong types; the chosen one's values also go through their options' validators.
// INVALID_ARGUMENT listing every problem, one a line, "FILE:LINE: KEY: why" (KEY as
// "profiles.lab.server"); a named profile that is not in the file lists those that are.
core::Status ApplyClientProfile(CLI::App& app, const std::string& profile,
                                const ClientConfigLocation& where);

// ApplyClientProfile with FindClientConfig(), unless `app`'s parsed command is a service's
// (`dim orchestrator ...`, `dim daemon ...`: a service reads no user's files, it has
// --config); a problem is thrown as a CLI::ConfigError.
void ApplyClientProfileAfterParse(CLI::App& app, const std::string& profile);

// Runs ApplyClientProfileAfterParse once `app`'s command line is parsed (its
// parse_complete_callback: after the help flags and the required options, before any
// command runs), with the value `profile` then holds.
void ApplyClientProfileOnParse(CLI::App& app, const std::string& profile);

}  // namespace dim::cli
