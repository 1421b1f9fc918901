// dim: the Decentralized Inference Machine, services and client in one program.
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/help_text.h"
#include "cli/usage_error.h"
#include "net/server_runner.h"

int main(int argc, char** argv) {
  dim::net::ConfigureGrpcRuntime();
  CLI::App app{"dim: run AI inference across nodes whose data never leaves them", "dim"};
  dim::cli::GlobalOptions options;
  int exit_code = dim::cli::kExitOk;

  dim::cli::AddGlobalOptions(app, options);
  dim::cli::AddServeCommands(app, options, exit_code);
  dim::cli::AddJobCommands(app, options, exit_code);
  dim::cli::AddModelCommands(app, options, exit_code);
  dim::cli::AddSecurityCommands(app, options, exit_code);
  dim::cli::SetUpHelp(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version print and exit 0; a usage error is also a JSON document on
    // stdout when -o json was asked for, as every other error is.
    return dim::cli::ReportParseError(app, e, argc, argv);
  }
  return exit_code;
}
