#include "cli/config_file.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <string_view>

#include "core/regular_file.h"
#include "core/text.h"

namespace dim::cli {
namespace {

using Type = ConfigNode::Type;

std::string Where(const std::string& file, int line) {
  return line > 0 ? file + ":" + std::to_string(line) : file;
}

// The shortest text that reads back as the same double (1.5, not 1.500000).
std::string FloatText(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, d);
  return std::string(buffer, result.ptr);
}

int LineOf(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

ConfigNode Convert(const toml::node& node, std::string key, int line) {
  ConfigNode out;
  out.key = std::move(key);
  out.line = line > 0 ? line : LineOf(node);
  switch (node.type()) {
    case toml::node_type::string:
      out.type = Type::kString;
      out.text = std::string(node.as_string()->get());
      break;
    case toml::node_type::integer:
      out.type = Type::kInteger;
      out.text = std::to_string(node.as_integer()->get());
      break;
    case toml::node_type::floating_point:
      out.type = Type::kFloat;
      out.text = FloatText(node.as_floating_point()->get());
      break;
    case toml::node_type::boolean:
      out.type = Type::kBoolean;
      out.text = node.as_boolean()->get() ? "true" : "false";
      break;
    case toml::node_type::array:
      out.type = Type::kArray;
      for (const toml::node& item : *node.as_array()) {
        out.children.push_back(Convert(item, "", 0));
      }
      break;
    case toml::node_type::table:
      out.type = Type::kTable;
      for (const auto& [name, value] : *node.as_table()) {
        out.children.push_back(
            Convert(value, std::string(name.str()), static_cast<int>(name.source().begin.line)));
      }
      // toml++ keeps a table's keys sorted; messages follow the file.
      std::stable_sort(out.children.begin(), out.children.end(),
                       [](const ConfigNode& a, const ConfigNode& b) { return a.line < b.line; });
      // A table only dotted keys made ("a.b = 1") has no line of its own.
      if (out.line == 0 && !out.children.empty()) out.line = out.children.front().line;
      break;
    default:
      out.type = Type::kDateTime;
      break;
  }
  return out;
}

// The first line of `text` that is not valid UTF-8 (a sequence cannot span a newline), or 0.
int FirstLineNotUtf8(std::string_view text) {
  int line = 1;
  while (true) {
    const auto end = text.find('\n');
    if (!core::IsValidUtf8(text.substr(0, end))) return line;
    if (end == std::string_view::npos) return 0;
    text.remove_prefix(end + 1);
    ++line;
  }
}

bool IsScalarArgument(Type t) {
  return t == Type::kString || t == Type::kInteger || t == Type::kFloat;
}

// An option's words without the name CLI11 puts first ("--listen: ..."): the file's
// message names the key instead.
std::string OptionMessage(const CLI::Error& e, const CLI::Option& option) {
  std::string message = e.what();
  const std::string name = option.get_name() + ": ";
  if (message.starts_with(name)) message.erase(0, name.size());
  return message;
}

std::string UnknownKey(const std::string& key, const ConfigKeys& keys) {
  if (keys.explain_unknown) {
    if (std::string why = keys.explain_unknown(key); !why.empty()) return why;
  }
  std::vector<std::string> names;
  for (const auto& [name, option] : keys.options) names.push_back(name);
  const std::string nearest = NearestKey(key, names);
  return nearest.empty() ? "unknown key" : "unknown key (did you mean '" + nearest + "'?)";
}

// Applies (or, with `apply` false, only checks) each key of `table`.
core::Status ProcessConfig(const ConfigNode& table, const std::string& file,
                           const std::string& prefix, const ConfigKeys& keys, bool apply) {
  std::vector<std::string> problems;
  std::map<const CLI::Option*, const ConfigNode*> seen;
  for (const ConfigNode& entry : table.children) {
    const std::string where = Where(file, entry.line) + ": " + prefix + core::Snippet(entry.key);
    const auto found = keys.options.find(entry.key);
    if (found == keys.options.end()) {
      problems.push_back(where + ": " + UnknownKey(entry.key, keys));
      continue;
    }
    CLI::Option* option = found->second;
    if (auto [it, added] = seen.emplace(option, &entry); !added) {
      problems.push_back(where + ": the same option as " + prefix + core::Snippet(it->second->key) +
                         " (line " + std::to_string(it->second->line) + ")");
      continue;
    }
    auto arguments = ConfigArguments(entry, *option);
    if (!arguments.ok()) {
      problems.push_back(where + ": " + arguments.status().message());
      continue;
    }
    // The command line and the environment were read first; they win.
    if (!apply || option->count() > 0 || arguments->empty()) continue;
    if (keys.given_otherwise && keys.given_otherwise(entry.key)) continue;
    if (keys.rewrite) {
      for (std::string& argument : *arguments) argument = keys.rewrite(entry.key, argument);
    }
    try {
      if (option->get_expected_min() == 0) {
        option->add_result(option->get_flag_value(entry.key, arguments->front()));
      } else {
        option->add_result(*arguments);
      }
      option->run_callback();
    } catch (const CLI::ConversionError&) {
      problems.push_back(where +
                         ": not a valid value: " + core::Snippet(CLI::detail::join(*arguments)));
    } catch (const CLI::Error& e) {
      problems.push_back(where + ": " + OptionMessage(e, *option));
    }
  }
  if (problems.empty()) return core::Status::Ok();
  std::string message;
  for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
  return core::Status::InvalidArgument(message);
}

}  // namespace

const ConfigNode* ConfigNode::Find(const std::string& name) const {
  for (const ConfigNode& child : children) {
    if (child.key == name) return &child;
  }
  return nullptr;
}

std::string DescribeType(Type type) {
  switch (type) {
    case Type::kString:
      return "a string";
    case Type::kInteger:
      return "an integer";
    case Type::kFloat:
      return "a number";
    case Type::kBoolean:
      return "a boolean";
    case Type::kDateTime:
      return "a date or time";
    case Type::kArray:
      return "an array";
    case Type::kTable:
      return "a table";
  }
  return "a value";
}

core::Result<ConfigNode> ReadConfigFile(const std::string& path) {
  DIM_ASSIGN_OR_RETURN(std::string text, core::ReadRegularFile(path, kMaxConfigFileBytes));
  if (const int line = FirstLineNotUtf8(text); line > 0) {
    return core::Status::InvalidArgument(Where(path, line) + ": not valid UTF-8");
  }
  try {
    const toml::table root = toml::parse(text, path);
    return Convert(root, "", 1);
  } catch (const toml::parse_error& e) {
    const auto& begin = e.source().begin;
    return core::Status::InvalidArgument(Where(path, static_cast<int>(begin.line)) + ":" +
                                         std::to_string(begin.column) + ": " +
                                         std::string(e.description()));
  }
}

core::Result<std::vector<std::string>> ConfigArguments(const ConfigNode& value,
                                                       const CLI::Option& option) {
  if (option.get_expected_min() == 0) {  // a flag
    if (value.type != Type::kBoolean) {
      return core::Status::InvalidArgument("expected true or false, got " +
                                           DescribeType(value.type));
    }
    return std::vector<std::string>{value.text};
  }
  const bool repeatable = option.get_items_expected_max() > 1;
  if (IsScalarArgument(value.type)) return std::vector<std::string>{value.text};
  if (value.type == Type::kArray && repeatable) {
    std::vector<std::string> out;
    for (const ConfigNode& item : value.children) {
      if (!IsScalarArgument(item.type)) {
        return core::Status::InvalidArgument("expected an array of strings or numbers, got " +
                                             DescribeType(item.type) + " in it");
      }
      out.push_back(item.text);
    }
    return out;  // empty: none, as when the key is left out
  }
  return core::Status::InvalidArgument(std::string(repeatable
                                                       ? "expected an array of strings or numbers"
                                                       : "expected a string or a number") +
                                       ", got " + DescribeType(value.type));
}

core::Status ApplyConfig(const ConfigNode& table, const std::string& file,
                         const std::string& prefix, const ConfigKeys& keys) {
  return ProcessConfig(table, file, prefix, keys, /*apply=*/true);
}

core::Status CheckConfig(const ConfigNode& table, const std::string& file,
                         const std::string& prefix, const ConfigKeys& keys) {
  return ProcessConfig(table, file, prefix, keys, /*apply=*/false);
}

std::string NearestKey(const std::string& key, const std::vector<std::string>& keys) {
  std::string spelled = core::AsciiLower(key);  // metrics_listen, Metrics-Listen
  std::replace(spelled.begin(), spelled.end(), '_', '-');
  return core::Nearest(spelled, keys, std::max<size_t>(1, std::min<size_t>(3, key.size() / 3)));
}

std::map<std::string, CLI::Option*> OptionsByLongName(CLI::App& app,
                                                      const std::vector<std::string>& skip) {
  std::map<std::string, CLI::Option*> out;
  const CLI::Option* help = app.get_help_ptr();
  const CLI::Option* help_all = app.get_help_all_ptr();
  for (CLI::Option* option : app.get_options()) {
    if (option == help || option == help_all) continue;
    for (const std::string& name : option->get_lnames()) {
      if (std::find(skip.begin(), skip.end(), name) == skip.end()) out.emplace(name, option);
    }
  }
  return out;
}

}  // namespace dim::cli
