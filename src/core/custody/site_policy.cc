#include "core/custody/site_policy.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/job/config_reader.h"
#include "core/job_types.h"
#include "core/regular_file.h"
#include "core/sha256.h"
#include "core/text.h"

namespace dim::core {
namespace {

using nlohmann::json;

Status Bad(const std::string& path, const std::string& why) {
  return Status::InvalidArgument(path + ": " + why);
}

std::string Shown(const json& v) { return Snippet(DumpJson(v), 80); }

Result<int64_t> Count(const json& v, const std::string& path) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0) {
    return Bad(path, "must be a whole number, 0 or more, got " + Shown(v));
  }
  return v.get<int64_t>();
}

Result<double> Positive(const json& v, const std::string& path) {
  if (!v.is_number() || !std::isfinite(v.get<double>()) || v.get<double>() <= 0) {
    return Bad(path, "must be a number greater than 0, got " + Shown(v));
  }
  return v.get<double>();
}

Result<std::vector<std::string>> Names(const json& v, const std::string& path) {
  if (!v.is_array()) return Bad(path, "must be an array of strings, got " + Shown(v));
  std::vector<std::string> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!v[i].is_string() || v[i].get<std::string>().empty()) {
      return Bad(at, "must be a non-empty string, got " + Shown(v[i]));
    }
    out.push_back(v[i].get<std::string>());
  }
  return out;
}

Status ReadDp(const json& v, const std::string& path, DatasetRules& r) {
  if (!v.is_object()) return Bad(path, "must be an object, got " + Shown(v));
  for (const auto& [key, value] : v.items()) {
    const std::string at = path + "." + key;
    if (key == "required") {
      if (!value.is_boolean()) return Bad(at, "must be true or false, got " + Shown(value));
      r.dp_required = value.get<bool>();
    } else if (key == "max_epsilon_per_job") {
      DIM_ASSIGN_OR_RETURN(r.max_epsilon_per_job, Positive(value, at));
    } else if (key == "budget") {
      DIM_ASSIGN_OR_RETURN(r.budget, Positive(value, at));
    } else if (key == "clip") {
      if (!value.is_array() || value.size() != 2 || !value[0].is_number() ||
          !value[1].is_number() || !std::isfinite(value[0].get<double>()) ||
          !std::isfinite(value[1].get<double>()) ||
          value[0].get<double>() >= value[1].get<double>()) {
        return Bad(at, "must be [LO, HI] with LO < HI, got " + Shown(value));
      }
      r.clip = std::make_pair(value[0].get<double>(), value[1].get<double>());
    } else {
      return Bad(at, "unknown key (expected required, max_epsilon_per_job, budget, clip)");
    }
  }
  return Status::Ok();
}

Result<DatasetRules> ReadRules(const json& v, const std::string& path) {
  if (!v.is_object()) return Bad(path, "must be an object of rules, got " + Shown(v));
  DatasetRules r;
  for (const auto& [key, value] : v.items()) {
    const std::string at = path + "." + key;
    if (key == "min_samples") {
      DIM_ASSIGN_OR_RETURN(r.min_samples, Count(value, at));
    } else if (key == "patterns") {
      DIM_ASSIGN_OR_RETURN(r.patterns, Names(value, at));
      for (size_t i = 0; i < r.patterns->size(); ++i) {
        const auto& p = (*r.patterns)[i];
        if (!ParsePattern(p) || p != PatternName(*ParsePattern(p))) {
          return Bad(at + "[" + std::to_string(i) + "]",
                     "must be collaborative, comparative or chained, got '" + Snippet(p) + "'");
        }
      }
    } else if (key == "models") {
      DIM_ASSIGN_OR_RETURN(r.models, Names(value, at));
      for (size_t i = 0; i < r.models->size(); ++i) {
        auto& m = (*r.models)[i];
        if (m.starts_with("sha256:")) {
          m = AsciiLower(m);
          if (!IsSha256Hex(std::string_view(m).substr(7))) {
            return Bad(at + "[" + std::to_string(i) + "]",
                       "sha256: must be followed by 64 hex digits");
          }
        }
      }
    } else if (key == "users") {
      DIM_ASSIGN_OR_RETURN(r.users, Names(value, at));
    } else if (key == "differential_privacy") {
      DIM_RETURN_IF_ERROR(ReadDp(value, at, r));
    } else if (key == "max_rows_returned") {
      DIM_ASSIGN_OR_RETURN(r.max_rows_returned, Count(value, at));
    } else {
      return Bad(at,
                 "unknown key (expected min_samples, patterns, models, users, "
                 "differential_privacy, max_rows_returned)");
    }
  }
  if (r.max_epsilon_per_job && r.budget && *r.max_epsilon_per_job > *r.budget) {
    return Bad(path + ".differential_privacy.max_epsilon_per_job", "is more than the budget");
  }
  return r;
}

template <typename T>
void Over(std::optional<T>& value, const std::optional<T>& fallback) {
  if (!value) value = fallback;
}

}  // namespace

Result<SitePolicy> SitePolicy::Parse(std::string_view text, const std::string& where) {
  auto doc = ParseJsonText(text);
  if (!doc.ok()) return doc.status().WithPrefix(where);
  if (!doc->is_object()) {
    return Status::InvalidArgument(where + ": $: must be an object of datasets (\"*\" for all)");
  }
  SitePolicy policy;
  for (const auto& [name, rules] : doc->items()) {
    auto r = ReadRules(rules, "$." + name);
    if (!r.ok()) return r.status().WithPrefix(where);
    policy.by_dataset_.emplace(name, std::move(*r));
  }
  return policy;
}

Result<SitePolicy> SitePolicy::Read(const std::filesystem::path& path) {
  auto text = ReadRegularFile(path, size_t{1} << 20, "--policy " + path.string());
  if (!text.ok()) return Status::InvalidArgument(text.status().message());
  return Parse(*text, "--policy " + path.string());
}

DatasetRules SitePolicy::For(const std::string& dataset) const {
  DatasetRules r;
  if (auto it = by_dataset_.find(dataset); it != by_dataset_.end()) r = it->second;
  if (auto it = by_dataset_.find("*"); it != by_dataset_.end()) {
    const DatasetRules& d = it->second;
    Over(r.min_samples, d.min_samples);
    Over(r.patterns, d.patterns);
    Over(r.models, d.models);
    Over(r.users, d.users);
    Over(r.dp_required, d.dp_required);
    Over(r.max_epsilon_per_job, d.max_epsilon_per_job);
    Over(r.budget, d.budget);
    Over(r.clip, d.clip);
    Over(r.max_rows_returned, d.max_rows_returned);
  }
  return r;
}

std::vector<std::string> SitePolicy::Datasets() const {
  std::vector<std::string> out;
  for (const auto& [name, rules] : by_dataset_) {
    if (name != "*") out.push_back(name);
  }
  return out;
}

}  // namespace dim::core
