// TOML files of option values: a service's `--config FILE` and the client's profiles. A key
// is an option's long name without its dashes (`listen`, `tls-cert`); its value goes through
// the option's own validators and transforms, so a file refuses what the flag refuses, with
// the same words, after "FILE:LINE: KEY: ".
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace dim::cli {

// A config file is a few dozen lines; anything this large is not one.
inline constexpr size_t kMaxConfigFileBytes = size_t{1} << 20;

// A TOML value, without the TOML library's types: what the options need of it.
struct ConfigNode {
  enum class Type { kString, kInteger, kFloat, kBoolean, kDateTime, kArray, kTable };
  Type type = Type::kTable;
  std::string key;  // its name in its table ("" for an array's items)
  int line = 0;     // where it is written (1-based)
  // A scalar as an option's argument: a string as written, a number in decimal (a float in
  // its shortest exact form, "inf" or "nan"), a boolean "true" or "false".
  std::string text;
  std::vector<ConfigNode> children;  // an array's items; a table's keys, in file order

  // The key `name` of a table, or nullptr.
  const ConfigNode* Find(const std::string& name) const;
};

// "a string", "an array", ... for messages.
std::string DescribeType(ConfigNode::Type type);

// The file at `path`, parsed, as its root table. INVALID_ARGUMENT or NOT_FOUND naming the
// file: "FILE: no such file", "FILE: not a regular file (a FIFO)" (never waited on),
// "FILE: larger than 1048576 bytes", "FILE:LINE: not valid UTF-8", and a syntax error as
// "FILE:LINE:COLUMN: <the parser's words>".
core::Result<ConfigNode> ReadConfigFile(const std::string& path);

// The arguments `value` gives `option`, as they would come on the command line: a flag takes
// a boolean, an option with one value a string or a number, a repeatable option an array of
// them (or one; an empty array gives none). INVALID_ARGUMENT "expected ..., got ..." otherwise
// (without the file, line and key, which the caller puts first).
core::Result<std::vector<std::string>> ConfigArguments(const ConfigNode& value,
                                                       const CLI::Option& option);

// Which options a file's keys set, and how.
struct ConfigKeys {
  std::map<std::string, CLI::Option*> options;  // key -> option
  // What to say of an unknown key instead of "unknown key (did you mean ...?)": that it is
  // an option of another command, say. "" for the default; may be empty.
  std::function<std::string(const std::string& key)> explain_unknown;
  // Whether another option, given on the command line or by its environment variable,
  // stands in for `key` (--token for a profile's token-file), which is then skipped as its
  // own option would be. May be empty.
  std::function<bool(const std::string& key)> given_otherwise;
  // A value as the option is to see it (a profile's relative paths); may be empty.
  std::function<std::string(const std::string& key, const std::string& value)> rewrite;
};

// Sets each key of `table` on its option and runs the option's validators and callback,
// unless the option already has a value: one from the command line or from its environment
// variable wins over the file. `file` and `prefix` ("profiles.lab.") name the keys in
// messages. INVALID_ARGUMENT listing every problem, one a line, "FILE:LINE: KEY: why": an
// unknown key (with the nearest key when one is close), a value of the wrong type, one the
// option refuses (its own message), two keys for the same option.
core::Status ApplyConfig(const ConfigNode& table, const std::string& file,
                         const std::string& prefix, const ConfigKeys& keys);

// Problems in `table` that ApplyConfig would report without setting anything: unknown keys
// and wrong types (not the options' validators). Same format.
core::Status CheckConfig(const ConfigNode& table, const std::string& file,
                         const std::string& prefix, const ConfigKeys& keys);

// The key of `keys` nearest to `key` ("listen" for "listn", "metrics-listen" for
// "metrics_listen"), or "" when none is close.
std::string NearestKey(const std::string& key, const std::vector<std::string>& keys);

// `app`'s options by their long names, without --help, --help-all and the names in `skip`.
std::map<std::string, CLI::Option*> OptionsByLongName(CLI::App& app,
                                                      const std::vector<std::string>& skip = {});

}  // namespace dim::cli
