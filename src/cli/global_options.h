// Options every command shares (dim [global options] <command>).
#pragma once

#include <string>
#include <vector>

#include "net/security.h"

namespace dim::cli {

enum class OutputFormat { kTable, kJson };
enum class LogFormat { kText, kJson };

struct GlobalOptions {
  std::string server = "127.0.0.1:50051";  // --server / DIM_SERVER
  OutputFormat output = OutputFormat::kTable;
  std::string log_level;  // empty: info for services, warn for the client
  LogFormat log_format = LogFormat::kText;
  bool local = false;
  std::string local_db;                  // --local-db / DIM_LOCAL_DB
  std::string models_dir = "models";     // --models / DIM_MODELS (local mode)
  std::vector<std::string> local_nodes;  // --local-node ID[:DATASET]=PATH
  std::vector<std::string> local_policies;  // --local-policy ID=FILE
  double rpc_timeout_seconds = 10;
  // TLS towards the orchestrator (--tls-ca, --tls-cert, --tls-key; DIM_TLS_*) and the
  // bearer token (--token; DIM_TOKEN).
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string token;
  std::string token_file;  // --token-file: the token is its first line
  // --profile / DIM_PROFILE: the profile of the client's config file (see client_profiles.h).
  std::string profile;
};

// The client's TLS and token, as the global options give them (the token from --token,
// DIM_TOKEN or --token-file, only one of them); errors name the option.
core::Result<net::ClientSecurity> LoadClientSecurity(const GlobalOptions& options);

// $DIM_LOCAL_DB, else $XDG_DATA_HOME/dim/local.db, else ~/.local/share/dim/local.db.
std::string DefaultLocalDb();

}  // namespace dim::cli
