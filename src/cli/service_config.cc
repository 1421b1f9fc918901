#include "cli/service_config.h"

#include "cli/config_file.h"

namespace dim::cli {
namespace {

bool AsksForHelp(const CLI::App& app) {
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
    const CLI::Option* help = a->get_help_ptr();
    const CLI::Option* help_all = a->get_help_all_ptr();
    if ((help != nullptr && help->count() > 0) || (help_all != nullptr && help_all->count() > 0)) {
      return true;
    }
  }
  return false;
}

// "dim daemon serve", for messages.
std::string CommandName(const CLI::App& command) {
  std::string out;
  for (const CLI::App* a = &command; a != nullptr; a = a->get_parent()) {
    out = a->get_name() + (out.empty() ? "" : " " + out);
  }
  return out;
}

// Why `key` is not one of `serve`'s: another service's option, or a client's.
std::string ExplainUnknown(CLI::App& app, const CLI::App& serve, const std::string& key) {
  if (key == "config") {
    return "a config file cannot name another (give --config on the command line)";
  }
  for (CLI::App* command : app.get_subcommands([](CLI::App*) { return true; })) {
    for (CLI::App* other : command->get_subcommands([](CLI::App*) { return true; })) {
      if (other == &serve || other->get_name() != "serve") continue;
      if (OptionsByLongName(*other).count(key) > 0) {
        return "not an option of " + CommandName(serve) + " (it is one of " + CommandName(*other) +
               ")";
      }
    }
  }
  if (OptionsByLongName(app).count(key) > 0) {
    return "a client option, which " + CommandName(serve) + " does not read";
  }
  return "";
}

}  // namespace

void AddServiceConfigOption(CLI::App& app, CLI::App& serve, std::vector<std::string> global_keys) {
  serve
      .add_option_function<std::string>(
          "--config",
          [&app, &serve, global_keys](const std::string& path) {
            if (AsksForHelp(serve)) return;
            auto table = ReadConfigFile(path);
            if (!table.ok()) throw CLI::ConfigError(table.status().message());
            ConfigKeys keys;
            keys.options = OptionsByLongName(serve, {"config"});
            const auto globals = OptionsByLongName(app);
            for (const std::string& key : global_keys) {
              if (auto it = globals.find(key); it != globals.end()) {
                keys.options.emplace(key, it->second);
              }
            }
            keys.explain_unknown = [&app, &serve](const std::string& key) {
              return ExplainUnknown(app, serve, key);
            };
            if (auto s = ApplyConfig(*table, path, "", keys); !s.ok()) {
              throw CLI::ConfigError(s.message());
            }
          },
          "Read options from a TOML file: keys are the long option names (listen = "
          "\"0.0.0.0:50051\"); flags and environment variables override it")
      ->type_name("FILE");
}

}  // namespace dim::cli
