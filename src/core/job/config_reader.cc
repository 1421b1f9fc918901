#include "core/job/config_reader.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <set>
#include <unordered_map>
#include <utility>

#include "core/text.h"

namespace dim::core {
namespace {

using json = nlohmann::json;

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }

bool IsIdentifier(std::string_view key) {
  // A leading digit is bracketed too: "$.fallback_nodes['2']", as JSONPath reads it.
  if (key.empty() || (key[0] >= '0' && key[0] <= '9')) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || IsUpper(c) || (c >= '0' && c <= '9') || c == '_';
  });
}

// The known key nearest to `key`, when it is close enough to be a typo of it.
std::string_view NearestKey(std::string_view key, const std::vector<std::string_view>& known) {
  std::string_view best;
  size_t best_distance = 3;  // suggest only within two edits
  for (std::string_view candidate : known) {
    size_t d = EditDistance(key, candidate);
    if (d < best_distance && d < std::max(key.size(), candidate.size()) / 2 + 1) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

bool Contains(const std::vector<std::string_view>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

// "[json.exception.parse_error.101] parse error at line 1, column 10: syntax error ..." ->
// "syntax error ...": the byte offset replaces line and column.
std::string JsonErrorReason(std::string_view what) {
  size_t bracket = what.find("] ");
  if (bracket != std::string_view::npos) what.remove_prefix(bracket + 2);
  constexpr std::string_view kParseError = "parse error";
  if (what.starts_with(kParseError)) {
    size_t colon = what.find(": ");
    if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
  }
  return std::string(what);
}

// Tracks where the parser is, to name the path of a duplicate key.
class DuplicateKeyFinder final {
 public:
  bool OnEvent(json::parse_event_t event, const json& parsed) {
    if (!error_.empty()) return true;
    switch (event) {
      case json::parse_event_t::object_start:
        frames_.push_back({false, 0, ValuePath(), {}, {}});
        break;
      case json::parse_event_t::array_start:
        frames_.push_back({true, 0, ValuePath(), {}, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key: {
        Frame& top = frames_.back();
        const auto& key = parsed.get_ref<const std::string&>();
        top.key_path = ChildPath(top.path, key);
        if (!top.keys.insert(key).second) error_ = top.key_path + ": duplicate key";
        break;
      }
      case json::parse_event_t::value:
        (void)ValuePath();  // counts an array element
        break;
    }
    return true;
  }

  const std::string& error() const { return error_; }

 private:
  struct Frame {
    bool is_array;
    size_t next_index;
    std::string path;
    std::string key_path;  // path of the current member, for objects
    std::set<std::string> keys;
  };

  // The path of the value that starts now, in the innermost container.
  std::string ValuePath() {
    if (frames_.empty()) return "$";
    Frame& top = frames_.back();
    if (top.is_array) return IndexPath(top.path, top.next_index++);
    return top.key_path;
  }

  std::vector<Frame> frames_;
  std::string error_;
};

}  // namespace

std::string DescribeValue(const json& value) { return Snippet(DumpJson(value)); }

std::string SnakeCaseKey(std::string_view key) {
  std::string out;
  out.reserve(key.size() + 4);
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (IsUpper(c)) {
      if (i > 0) out += '_';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c;
    }
  }
  return out;
}

std::string ChildPath(std::string_view parent, std::string_view key) {
  std::string out(parent);
  if (IsIdentifier(key)) {
    out += '.';
    out.append(key);
    return out;
  }
  out += "['";
  for (char c : key) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += "']";
  return out;
}

std::string IndexPath(std::string_view parent, size_t index) {
  std::string out(parent);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

Status TypeError(std::string_view path, std::string_view expected, const json& value) {
  std::string m(path);
  m += ": expected ";
  m.append(expected);
  m += ", got ";
  m += value.type_name();
  return Status::InvalidArgument(std::move(m));
}

Result<json> ParseJsonText(std::string_view text) {
  DIM_RETURN_IF_ERROR(CheckJsonDepth(text));
  DuplicateKeyFinder finder;
  json::parser_callback_t callback = [&finder](int /*depth*/, json::parse_event_t event,
                                               json& parsed) {
    return finder.OnEvent(event, parsed);
  };
  try {
    json parsed = json::parse(text.begin(), text.end(), callback);
    if (!finder.error().empty()) return Status::InvalidArgument(finder.error());
    return parsed;
  } catch (const json::parse_error& e) {
    return Status::InvalidArgument("invalid JSON at byte " + std::to_string(e.byte) + ": " +
                                   Snippet(JsonErrorReason(e.what())));
  } catch (const json::exception& e) {
    return Status::InvalidArgument("invalid JSON: " + Snippet(JsonErrorReason(e.what())));
  } catch (const std::exception& e) {
    return Status::ResourceExhausted(std::string("cannot parse JSON: ") + e.what());
  }
}

Result<ConfigObject> ConfigObject::Read(const json& value, std::string path,
                                        const KeyRules& rules) {
  if (!value.is_object()) return TypeError(path, "an object", value);
  std::vector<Member> members;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& spelled = it.key();
    const json& member_value = it.value();
    std::string key = SnakeCaseKey(spelled);
    std::string member_path = ChildPath(path, spelled);
    if (Contains(rules.unavailable, key)) {
      return Status::InvalidArgument(member_path + ": not available in this version");
    }
    if (!Contains(rules.known, key)) {
      std::string message = member_path + ": unknown key";
      std::string_view nearest = NearestKey(key, rules.known);
      if (!nearest.empty()) message += " (did you mean '" + std::string(nearest) + "'?)";
      return Status::InvalidArgument(std::move(message));
    }
    for (const Member& earlier : members) {
      if (earlier.key == key) {
        return Status::InvalidArgument(member_path + ": given twice, also as '" + earlier.spelled +
                                       "'");
      }
    }
    members.push_back({std::move(key), spelled, std::move(member_path), &member_value});
  }
  return ConfigObject(std::move(path), std::move(members));
}

const json* ConfigObject::Find(std::string_view key) const {
  for (const Member& m : members_) {
    if (m.key == key) return m.value;
  }
  return nullptr;
}

Result<const json*> ConfigObject::Require(std::string_view key) const {
  const json* value = Find(key);
  if (value == nullptr) return Status::InvalidArgument(PathOf(key) + ": missing required key");
  return value;
}

std::string ConfigObject::PathOf(std::string_view key) const {
  for (const Member& m : members_) {
    if (m.key == key) return m.path;
  }
  return ChildPath(path_, key);
}

Result<std::string> ReadString(const json& value, std::string_view path) {
  if (!value.is_string()) return TypeError(path, "a string", value);
  return value.get<std::string>();
}

Result<std::string> ReadNonEmptyString(const json& value, std::string_view path) {
  DIM_ASSIGN_OR_RETURN(std::string s, ReadString(value, path));
  if (s.empty()) return Status::InvalidArgument(std::string(path) + ": must not be empty");
  if (s.size() > kMaxNameBytes) {
    return Status::InvalidArgument(std::string(path) + ": longer than " +
                                   std::to_string(kMaxNameBytes) + " bytes ('" +
                                   Snippet(s, 40) + "')");
  }
  return s;
}

Result<std::vector<std::string>> ReadUniqueStrings(const json& value, std::string_view path,
                                                   size_t max_items) {
  if (!value.is_array()) return TypeError(path, "an array", value);
  if (value.size() > max_items) {
    return Status::InvalidArgument(std::string(path) + ": at most " + std::to_string(max_items) +
                                   " entries, got " + std::to_string(value.size()));
  }
  std::vector<std::string> out;
  out.reserve(value.size());
  // Hashed, so that a long list is checked in linear time.
  std::unordered_map<std::string_view, size_t> seen;
  seen.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) return TypeError(IndexPath(path, i), "a string", value[i]);
    const auto& s = value[i].get_ref<const std::string&>();
    if (s.empty() || s.size() > kMaxNameBytes) {
      DIM_RETURN_IF_ERROR(ReadNonEmptyString(value[i], IndexPath(path, i)).status());
    }
    auto [earlier, inserted] = seen.emplace(s, i);
    if (!inserted) {
      return Status::InvalidArgument(IndexPath(path, i) + ": duplicate '" + Snippet(s) +
                                     "' (also at [" + std::to_string(earlier->second) + "])");
    }
    out.push_back(s);
  }
  return out;
}

Result<int64_t> ReadInteger(const json& value, std::string_view path, int64_t min, int64_t max) {
  const std::string p(path);
  int64_t n = 0;
  if (value.is_number_unsigned()) {
    if (value.get<uint64_t>() > static_cast<uint64_t>(max)) {
      return Status::InvalidArgument(p + ": must be <= " + std::to_string(max) + ", got " +
                                     DescribeValue(value));
    }
    n = static_cast<int64_t>(value.get<uint64_t>());
  } else if (value.is_number_integer()) {
    n = value.get<int64_t>();
  } else if (value.is_number_float()) {
    double d = value.get<double>();
    if (d != std::floor(d)) {
      return Status::InvalidArgument(p + ": expected an integer, got " + DescribeValue(value));
    }
    // Compared as doubles so that huge values cannot overflow the conversion.
    if (d < static_cast<double>(min)) {
      return Status::InvalidArgument(p + ": must be >= " + std::to_string(min) + ", got " +
                                     DescribeValue(value));
    }
    if (d > static_cast<double>(max)) {
      return Status::InvalidArgument(p + ": must be <= " + std::to_string(max) + ", got " +
                                     DescribeValue(value));
    }
    n = static_cast<int64_t>(d);
  } else {
    return TypeError(path, "an integer", value);
  }
  if (n < min) {
    return Status::InvalidArgument(p + ": must be >= " + std::to_string(min) + ", got " +
                                   std::to_string(n));
  }
  if (n > max) {
    return Status::InvalidArgument(p + ": must be <= " + std::to_string(max) + ", got " +
                                   std::to_string(n));
  }
  return n;
}

Result<double> ReadPositiveNumber(const json& value, std::string_view path) {
  if (!value.is_number()) return TypeError(path, "a number", value);
  double d = value.get<double>();
  if (!(d > 0)) {
    return Status::InvalidArgument(std::string(path) + ": must be > 0, got " +
                                   DescribeValue(value));
  }
  return d;
}

Result<std::string> ReadChoice(const json& value, std::string_view path, std::string_view what,
                               const std::vector<std::string_view>& choices) {
  DIM_ASSIGN_OR_RETURN(std::string s, ReadString(value, path));
  if (Contains(choices, s)) return s;
  std::string expected;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) expected += (i + 1 == choices.size()) ? " or " : ", ";
    expected.append(choices[i]);
  }
  return Status::InvalidArgument(std::string(path) + ": unknown " + std::string(what) + " '" +
                                 Snippet(s) + "' (expected " + expected + ")");
}

}  // namespace dim::core
