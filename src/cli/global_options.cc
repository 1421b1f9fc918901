#include <grpc/support/log.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "cli/client_profiles.h"
#include "cli/commands.h"
#include "cli/validators.h"
#include "core/regular_file.h"
#include "core/text.h"
#include "net/log.h"

namespace dim::cli {

void AddGlobalOptions(CLI::App& app, GlobalOptions& options) {
  app.set_version_flag("--version", std::string("dim ") + DIM_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the command
  app.add_option("--server", options.server, "Orchestrator address HOST:PORT")
      ->envname("DIM_SERVER")
      ->check(HostPort(/*allow_port_zero=*/false, "DIM_SERVER"))
      ->capture_default_str();
  app.add_option("-o,--output", options.output, "Output format: table or json")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, OutputFormat>{{"table", OutputFormat::kTable},
                                              {"json", OutputFormat::kJson}},
          CLI::ignore_case))
      ->type_name("table|json");
  app.add_option("--log-level", options.log_level,
                 "trace, debug, info, warn, error or off (default: info for services, warn "
                 "for the client)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->type_name("LEVEL");
  app.add_option("--log-format", options.log_format,
                 "Log lines as text, or json: one object a line (time, level, process, node, "
                 "job, task, message)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, LogFormat>{{"text", LogFormat::kText}, {"json", LogFormat::kJson}},
          CLI::ignore_case))
      ->type_name("text|json")
      ->envname("DIM_LOG_FORMAT");
  app.add_flag("--local", options.local,
               "Run the engine in-process: no servers, jobs kept in --local-db");
  app.add_option("--local-db", options.local_db,
                 "Job file for --local (default $XDG_DATA_HOME/dim/local.db)")
      ->type_name("FILE")
      ->envname("DIM_LOCAL_DB");
  app.add_option("--models", options.models_dir, "Model folder for --local (NAME.onnx)")
      ->type_name("DIR")
      ->envname("DIM_MODELS")
      ->capture_default_str();
  app.add_option("--local-node", options.local_nodes,
                 "An in-process node for --local: ID=CSV or ID:DATASET=CSV (repeatable)")
      ->type_name("ID=CSV");
  app.add_option("--tls-ca", options.tls_ca,
                 "CA certificate (PEM) that verifies the orchestrator: connect over TLS")
      ->type_name("FILE")
      ->envname("DIM_TLS_CA");
  app.add_option("--tls-cert", options.tls_cert,
                 "This client's certificate (PEM), for mutual TLS; with --tls-key")
      ->type_name("FILE")
      ->envname("DIM_TLS_CERT");
  app.add_option("--tls-key", options.tls_key, "The private key (PEM) of --tls-cert")
      ->type_name("FILE")
      ->envname("DIM_TLS_KEY");
  app.add_option("--token", options.token,
                 "Bearer token for an orchestrator with --auth-tokens (prefer DIM_TOKEN: "
                 "options show in ps)")
      ->type_name("TOKEN")
      ->envname("DIM_TOKEN");
  app.add_option("--token-file", options.token_file,
                 "File whose first line is the bearer token (unlike --token, not shown in ps)")
      ->type_name("FILE");
  app.add_option("--profile", options.profile,
                 "Profile of the config file ~/.config/dim/config.toml to use (default: its "
                 "profile key); see dim(1), FILES")
      ->type_name("NAME")
      ->envname("DIM_PROFILE")
      ->check(Name());
  app.add_option("--local-policy", options.local_policies,
                 "A site policy for a --local node: ID=FILE (repeatable; its ledger is kept "
                 "beside --local-db)")
      ->type_name("ID=FILE");
  app.add_option("--rpc-timeout", options.rpc_timeout_seconds,
                 "Deadline of each call to the orchestrator, in seconds")
      ->check(Seconds())
      ->capture_default_str();
  ApplyClientProfileOnParse(app, options.profile);
}

namespace {

// The first line of --token-file, trimmed; errors name the file.
core::Result<std::string> ReadTokenFile(const std::string& path) {
  const std::string shown = "--token-file " + path;
  auto text = core::ReadRegularFile(path, 64 * 1024, shown);
  if (!text.ok()) return core::Status::InvalidArgument(text.status().message());
  std::string token = text->substr(0, text->find('\n'));
  const auto first = token.find_first_not_of(" \t\r");
  const auto last = token.find_last_not_of(" \t\r");
  token = first == std::string::npos ? std::string() : token.substr(first, last - first + 1);
  if (token.empty()) return core::Status::InvalidArgument(shown + ": the first line is empty");
  if (!core::IsValidUtf8(token) || std::any_of(token.begin(), token.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F;
      })) {
    return core::Status::InvalidArgument(shown + ": the token must be printable, without spaces");
  }
  return token;
}

}  // namespace

core::Result<net::ClientSecurity> LoadClientSecurity(const GlobalOptions& options) {
  std::string token = options.token;
  if (!options.token_file.empty()) {
    if (!token.empty()) {
      return core::Status::InvalidArgument(
          "--token-file " + options.token_file +
          ": a token is also given by --token or DIM_TOKEN; give only one");
    }
    DIM_ASSIGN_OR_RETURN(token, ReadTokenFile(options.token_file));
  }
  return net::ClientSecurity::Load(options.tls_ca, options.tls_cert, options.tls_key, token);
}

void SetUpLogging(const GlobalOptions& options, const std::string& fallback,
                  const std::string& role, const std::string& node_id) {
  auto logger = spdlog::stderr_color_mt("dim");
  const std::string process = node_id.empty() ? role : role + " " + node_id;
  if (options.log_format == LogFormat::kJson) {
    logger->set_formatter(net::MakeJsonLogFormatter(role, node_id));
  } else {
    logger->set_formatter(net::MakeTextLogFormatter(process));
  }
  logger->set_level(
      spdlog::level::from_str(options.log_level.empty() ? fallback : options.log_level));
  spdlog::set_default_logger(logger);
  // The client reports each failed call once, in its own words; gRPC's own lines about it (a
  // failed TLS handshake) show only at --log-level debug.
  if (role.empty()) {
    gpr_set_log_function([](gpr_log_func_args* args) {
      spdlog::debug("grpc: {}", args->message != nullptr ? args->message : "");
    });
  }
}

}  // namespace dim::cli
