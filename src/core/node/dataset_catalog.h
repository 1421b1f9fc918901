// The datasets a node owns, by name. Jobs name datasets, never paths.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/data/csv_reader.h"
#include "core/status.h"

namespace dim::core {

// What a node's site policy allows on a dataset, and its privacy budget (NodeCustody).
struct DatasetPolicySummary {
  int64_t min_samples = 0;
  bool dp_required = false;
  double max_epsilon_per_job = 0;  // 0: no cap
  double budget = 0;               // 0: no budget
  double spent = 0;
};

struct DatasetEntry {
  std::string name;
  std::filesystem::path path;
  DatasetShape shape;
  std::optional<DatasetPolicySummary> policy = std::nullopt;  // as the node reports it
};

// Built once at start-up, then read-only: safe to share between threads.
class DatasetCatalog final {
 public:
  // Registers NAME=PATH, reading the file once to validate it and learn its shape.
  // INVALID_ARGUMENT for a duplicate or empty name; the reader's error for a bad file.
  [[nodiscard]] Status Add(const std::string& name, const std::filesystem::path& path);

  // The dataset called `name`. "default" falls back to the first dataset added when none is
  // called that. NOT_FOUND listing the names the node has.
  Result<DatasetEntry> Find(const std::string& name) const;

  const std::vector<DatasetEntry>& entries() const { return entries_; }

  // Whether Find(name) would succeed.
  bool Has(const std::string& name) const;

 private:
  std::vector<DatasetEntry> entries_;
};

// Parses "NAME=PATH" as given to --dataset. INVALID_ARGUMENT when malformed.
Result<std::pair<std::string, std::string>> ParseNameValue(const std::string& text,
                                                           const std::string& what);

}  // namespace dim::core
