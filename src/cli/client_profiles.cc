#include "cli/client_profiles.h"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "cli/config_file.h"
#include "core/text.h"

namespace dim::cli {
namespace {

// Keys whose value is a path, and those whose value is ID=PATH.
constexpr std::array<std::string_view, 6> kPathKeys = {"token-file", "tls-ca",   "tls-cert",
                                                       "tls-key",    "local-db", "models"};
constexpr std::array<std::string_view, 2> kIdPathKeys = {"local-node", "local-policy"};

bool Contains(const auto& list, std::string_view key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

std::string FromFolder(const std::filesystem::path& folder, const std::string& path) {
  if (path.empty() || folder.empty() || std::filesystem::path(path).is_absolute()) return path;
  return (folder / path).string();
}

// A profile's value with its relative path taken from the config file's folder: the file
// is read from wherever the client runs.
std::string ResolvePath(const std::filesystem::path& folder, const std::string& key,
                        const std::string& value) {
  if (key == "local-db" && value == ":memory:") return value;
  if (Contains(kPathKeys, key)) return FromFolder(folder, value);
  if (Contains(kIdPathKeys, key)) {
    const auto eq = value.find('=');
    if (eq == std::string::npos) return value;  // its option says what is wrong
    return value.substr(0, eq + 1) + FromFolder(folder, value.substr(eq + 1));
  }
  return value;
}

std::string Where(const std::string& file, int line) { return file + ":" + std::to_string(line); }

void AddProblems(const core::Status& status, std::vector<std::string>& problems) {
  if (!status.ok()) problems.push_back(status.message());
}

bool IsServiceCommand(const CLI::App& app) {
  for (const CLI::App* sub : app.get_subcommands()) {
    if (sub->get_name() == "orchestrator" || sub->get_name() == "daemon") return true;
  }
  return false;
}

}  // namespace

ClientConfigLocation FindClientConfig() {
  if (const char* env = std::getenv("DIM_CONFIG"); env && *env) return {env, true};
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    return {std::string(xdg) + "/dim/config.toml", false};
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return {std::string(home) + "/.config/dim/config.toml", false};
  }
  return {};
}

const std::vector<std::string>& ProfileKeys() {
  static const std::vector<std::string> kKeys = {
      "server",      "token-file", "tls-ca",   "tls-cert", "tls-key",    "output",
      "rpc-timeout", "local",      "local-db", "models",   "local-node", "local-policy"};
  return kKeys;
}

core::Status ApplyClientProfile(CLI::App& app, const std::string& profile,
                                const ClientConfigLocation& where) {
  const std::string named_by = "--profile " + core::Snippet(profile) + " (or DIM_PROFILE)";
  if (where.path.empty()) {
    if (profile.empty()) return core::Status::Ok();
    return core::Status::InvalidArgument(named_by +
                                         ": no config file to find it in (set DIM_CONFIG)");
  }
  auto table = ReadConfigFile(where.path);
  if (!table.ok()) {
    if (table.status().code() != core::StatusCode::kNotFound) return table.status();
    if (where.named) return table.status().WithPrefix("DIM_CONFIG");
    if (profile.empty()) return core::Status::Ok();  // no config file: nothing to apply
    return core::Status::InvalidArgument(named_by + ": no config file " + where.path);
  }
  const std::string& file = where.path;
  std::vector<std::string> problems;

  // The top level: which profile, and the profiles.
  std::string chosen = profile;
  int chosen_line = 0;  // 0: named by the flag or the environment
  const ConfigNode* profiles = nullptr;
  for (const ConfigNode& entry : table->children) {
    const std::string at = Where(file, entry.line) + ": " + core::Snippet(entry.key) + ": ";
    if (entry.key == "profile") {
      if (entry.type != ConfigNode::Type::kString) {
        problems.push_back(at + "expected the name of a profile (a string), got " +
                           DescribeType(entry.type));
      } else if (chosen.empty()) {
        chosen = entry.text;
        chosen_line = entry.line;
      }
    } else if (entry.key == "profiles") {
      if (entry.type != ConfigNode::Type::kTable) {
        problems.push_back(at + "expected [profiles.NAME] tables, got " + DescribeType(entry.type));
      } else {
        profiles = &entry;
      }
    } else if (Contains(ProfileKeys(), entry.key)) {
      problems.push_back(at +
                         "belongs in a profile: put it under [profiles.NAME] and name that "
                         "profile in profile = \"NAME\"");
    } else {
      const std::string nearest = NearestKey(entry.key, {"profile", "profiles"});
      problems.push_back(at + (nearest.empty() ? "unknown key (the file holds profile and "
                                                 "[profiles.NAME] tables)"
                                               : "unknown key (did you mean '" + nearest + "'?)"));
    }
  }

  ConfigKeys keys;
  for (const std::string& key : ProfileKeys()) {
    if (CLI::Option* option = app.get_option_no_throw("--" + key)) {
      keys.options.emplace(key, option);
    }
  }
  const std::filesystem::path folder = std::filesystem::path(file).parent_path();
  keys.rewrite = [folder](const std::string& key, const std::string& value) {
    return ResolvePath(folder, key, value);
  };
  // A token from --token or DIM_TOKEN outranks the profile's token file.
  const CLI::Option* token = app.get_option_no_throw("--token");
  keys.given_otherwise = [token](const std::string& key) {
    return key == "token-file" && token != nullptr && token->count() > 0;
  };

  // Every profile is checked, so that a mistake shows before the day it is used.
  const ConfigNode* selected = nullptr;
  std::vector<std::string> names;
  const std::vector<ConfigNode> none;
  for (const ConfigNode& p : profiles != nullptr ? profiles->children : none) {
    const std::string prefix = "profiles." + core::Snippet(p.key) + ".";
    names.push_back(core::Snippet(p.key));
    if (p.type != ConfigNode::Type::kTable) {
      problems.push_back(Where(file, p.line) + ": profiles." + core::Snippet(p.key) +
                         ": expected a table of options, got " + DescribeType(p.type));
    } else if (!chosen.empty() && p.key == chosen) {
      selected = &p;
      AddProblems(ApplyConfig(p, file, prefix, keys), problems);
    } else {
      AddProblems(CheckConfig(p, file, prefix, keys), problems);
    }
  }
  if (!chosen.empty() && selected == nullptr) {
    std::string known = names.empty() ? "it has none" : "its profiles: ";
    for (size_t i = 0; i < names.size(); ++i) known += (i ? ", " : "") + names[i];
    problems.push_back(chosen_line > 0
                           ? Where(file, chosen_line) + ": profile: no profile '" +
                                 core::Snippet(chosen) + "' in " + file + " (" + known + ")"
                           : named_by + ": no such profile in " + file + " (" + known + ")");
  }
  if (problems.empty()) return core::Status::Ok();
  std::string message;
  for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
  return core::Status::InvalidArgument(message);
}

void ApplyClientProfileAfterParse(CLI::App& app, const std::string& profile) {
  if (IsServiceCommand(app)) return;
  if (auto s = ApplyClientProfile(app, profile, FindClientConfig()); !s.ok()) {
    throw CLI::ConfigError(s.message());
  }
}

void ApplyClientProfileOnParse(CLI::App& app, const std::string& profile) {
  // (--help has been answered before this runs.)
  app.parse_complete_callback([&app, &profile] { ApplyClientProfileAfterParse(app, profile); });
}

}  // namespace dim::cli
