// Reading a pattern's config_json: key styles, JSONPath-like error locations and type checks,
// shared by the collaborative, comparative and chained patterns.
//
// Every error is INVALID_ARGUMENT with a message that starts with the path of the offending
// value ("$", "$.nodes[1]", "$.aggregation.method"), then ": " and what is wrong, e.g.
// "$.nodes[1]: expected a string, got number". Nothing here throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/input_limits.h"
#include "core/status.h"

namespace dim::core {

// The most bytes a job's config_json (or a PatternEngine spec) may have: a pipeline's
// input_data carries the client's rows (at most kMaxClientValues numbers).
inline constexpr size_t kMaxConfigBytes = size_t{12} << 20;
// kMaxConfigBytes in words, for messages: "12 MiB".
inline constexpr char kMaxConfigText[] = "12 MiB";

// camelCase to snake_case: "modelId" -> "model_id", "minNodes" -> "min_nodes". A key already
// in snake_case comes back unchanged; every upper-case letter becomes "_" and its lower case.
std::string SnakeCaseKey(std::string_view key);

// The path of member `key` of the value at `parent`: "$.nodes". A key that is not a plain
// identifier (letters, digits, "_") is bracketed and quoted: "$['a b']", "$['it\'s']".
std::string ChildPath(std::string_view parent, std::string_view key);
// The path of element `index` of the array at `parent`: "$.nodes[1]".
std::string IndexPath(std::string_view parent, size_t index);

// A value as an error message quotes it: its JSON text, cut to core::kSnippetBytes.
std::string DescribeValue(const nlohmann::json& value);

// "<path>: expected <expected>, got <type of value>", with expected such as "a string";
// types are named as JSON names them (null, boolean, number, string, array, object).
Status TypeError(std::string_view path, std::string_view expected, const nlohmann::json& value);

// Parses JSON text. INVALID_ARGUMENT "invalid JSON at byte N: <reason>" for malformed text
// (N counts from 1), and "<path>: duplicate key" for a key given twice in one object, which
// a plain parse would let the last one win silently.
Result<nlohmann::json> ParseJsonText(std::string_view text);

// The keys an object may have, in snake_case.
struct KeyRules {
  // Keys this version reads.
  std::vector<std::string_view> known;
  // Keys the SPEC defines but this version does not implement: rejected as
  // "<path>: not available in this version", never ignored.
  std::vector<std::string_view> unavailable;
};

// A JSON object whose keys were normalised to snake_case and checked against KeyRules.
// Holds pointers into the json it was read from, which must outlive it.
class ConfigObject final {
 public:
  // INVALID_ARGUMENT: "<path>: expected an object, got array"; "<path>.<key>: unknown key"
  // (with "(did you mean '<known>'?)" when a known key is a near miss); "<path>.<key>: not
  // available in this version"; "<path>.model_id: given twice, also as 'modelId'" when a
  // key is given in both spellings. Keys are checked in the object's (sorted) order; the
  // first error is returned.
  static Result<ConfigObject> Read(const nlohmann::json& json, std::string path,
                                   const KeyRules& rules);

  // The path of the object itself.
  const std::string& path() const { return path_; }

  // The value of the snake_case key, or nullptr when the object does not have it.
  const nlohmann::json* Find(std::string_view key) const;

  // The value of the snake_case key; "<path>.<key>: missing required key" when absent.
  Result<const nlohmann::json*> Require(std::string_view key) const;

  // The path of the key as the config spells it ("$.modelId"); in snake_case when absent.
  std::string PathOf(std::string_view key) const;

 private:
  struct Member {
    std::string key;      // snake_case
    std::string spelled;  // as in the config
    std::string path;     // of the key as spelled
    const nlohmann::json* value;
  };
  ConfigObject(std::string path, std::vector<Member> members)
      : path_(std::move(path)), members_(std::move(members)) {}

  std::string path_;
  std::vector<Member> members_;
};

// Typed readers of one value at `path`. Each returns "<path>: expected ..., got <type>" for
// the wrong JSON type, and the message quoted for a value out of range.

// Any string.
Result<std::string> ReadString(const nlohmann::json& value, std::string_view path);
// A name: a string of 1 to kMaxNameBytes bytes; "<path>: must not be empty", "<path>:
// longer than 1024 bytes ('xxxx... (5000 bytes)')".
Result<std::string> ReadNonEmptyString(const nlohmann::json& value, std::string_view path);
// The longest lists a config may hold: node ids of one job (feature columns: kMaxColumns).
inline constexpr size_t kMaxNodesPerJob = 1000;
inline constexpr size_t kMaxModelsPerJob = 100;
inline constexpr size_t kMaxPipelineSteps = 100;

// An array of at most `max_items` non-empty strings, none twice: "<path>[2]: duplicate 'a'
// (also at [0])"; "<path>: at most 1000 entries, got 500000" (checked before any element).
// Linear in the array's length.
Result<std::vector<std::string>> ReadUniqueStrings(const nlohmann::json& value,
                                                   std::string_view path, size_t max_items);
// An integer in [min, max]; a number with no fraction (3.0) counts as an integer.
// "<path>: expected an integer, got 2.5"; "<path>: must be >= 1, got 0".
Result<int64_t> ReadInteger(const nlohmann::json& value, std::string_view path, int64_t min,
                            int64_t max);
// A number strictly greater than zero: "<path>: must be > 0, got -1".
Result<double> ReadPositiveNumber(const nlohmann::json& value, std::string_view path);
// One of `choices`: "<path>: unknown <what> 'x' (expected a, b or c)".
Result<std::string> ReadChoice(const nlohmann::json& value, std::string_view path,
                               std::string_view what, const std::vector<std::string_view>& choices);

}  // namespace dim::core
