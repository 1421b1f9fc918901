// Options every command shares (dim [global options] <command>).
#pragma once

#include <string>
#include <vector>

namespace dim::cli {

enum class OutputFormat { kTable, kJson };

struct GlobalOptions {
  std::string server = "127.0.0.1:50051";  // --server / DIM_SERVER
  OutputFormat output = OutputFormat::kTable;
  std::string log_level;  // empty: info for services, warn for the client
  bool local = false;
  std::string local_db;                  // --local-db / DIM_LOCAL_DB
  std::string models_dir = "models";     // --models / DIM_MODELS (local mode)
  std::vector<std::string> local_nodes;  // --local-node ID[:DATASET]=PATH
  double rpc_timeout_seconds = 10;
};

// $DIM_LOCAL_DB, else $XDG_DATA_HOME/dim/local.db, else ~/.local/share/dim/local.db.
std::string DefaultLocalDb();

}  // namespace dim::cli
