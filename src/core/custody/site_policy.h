// A site's own rules for its data (`dim daemon serve --policy FILE`, SPEC section 6): per
// dataset, with a "*" default, what a task may do before anything runs. Enforced by the
// node, never left to the orchestrator.
//
//   {"*":        {"min_samples": 20, "differential_privacy": {"required": true}},
//    "patients": {"patterns": ["collaborative"], "models": ["heart_risk", "sha256:<hex>"],
//                 "users": ["alice"], "max_rows_returned": 1000,
//                 "differential_privacy": {"required": true, "max_epsilon_per_job": 0.5,
//                                          "budget": 2.0, "clip": [0, 1]}}}
//
// A dataset's own entry overrides "*" key by key (differential_privacy's keys one by one).
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace dim::core {

// The rules that apply to one dataset (its entry over "*"); unset: no rule.
struct DatasetRules {
  std::optional<int64_t> min_samples;
  std::optional<std::vector<std::string>> patterns;  // "collaborative", "comparative", "chained"
  std::optional<std::vector<std::string>> models;    // names, or "sha256:<hex>" (lowercase)
  std::optional<std::vector<std::string>> users;
  std::optional<bool> dp_required;
  std::optional<double> max_epsilon_per_job;
  std::optional<double> budget;                   // total ε of the dataset, all jobs
  std::optional<std::pair<double, double>> clip;  // the site's clip bounds
  std::optional<int64_t> max_rows_returned;       // client-data pipeline steps
};

class SitePolicy final {
 public:
  SitePolicy() = default;  // no rules (every task as the job asks)

  // Errors are INVALID_ARGUMENT "WHERE: $.patients.differential_privacy.budget: must be a
  // number greater than 0, got -1".
  static Result<SitePolicy> Parse(std::string_view text, const std::string& where);
  static Result<SitePolicy> Read(const std::filesystem::path& path);

  DatasetRules For(const std::string& dataset) const;
  bool empty() const { return by_dataset_.empty(); }
  // The datasets the file names (not "*").
  std::vector<std::string> Datasets() const;

 private:
  std::map<std::string, DatasetRules> by_dataset_;  // "*" included
};

}  // namespace dim::core
