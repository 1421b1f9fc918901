#include "core/node/dataset_catalog.h"

#include "core/name_list.h"
#include "core/text.h"

namespace dim::core {

Status DatasetCatalog::Add(const std::string& name, const std::filesystem::path& path) {
  if (name.empty()) return Status::InvalidArgument("dataset name must not be empty");
  if (!IsValidUtf8(name)) {
    return Status::InvalidArgument("dataset name '" + Snippet(name) + "' is not valid UTF-8");
  }
  for (const auto& e : entries_) {
    if (e.name == name) return Status::InvalidArgument("dataset '" + name + "' given twice");
  }
  auto shape = InspectCsv(path);
  if (!shape.ok()) return shape.status().WithPrefix("dataset '" + name + "'");
  entries_.push_back(DatasetEntry{name, path, std::move(*shape)});
  return Status::Ok();
}

Result<DatasetEntry> DatasetCatalog::Find(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return e;
  }
  if (name == "default" && !entries_.empty()) return entries_.front();
  const std::string names =
      JoinNames(entries_, [](const DatasetEntry& e) { return e.name; });
  return Status::NotFound("dataset '" + name + "' not found" +
                          (names.empty() ? std::string(" (this node has no datasets)")
                                         : " (this node has: " + names + ")"));
}

bool DatasetCatalog::Has(const std::string& name) const {
  if (name == "default" && !entries_.empty()) return true;
  for (const auto& e : entries_) {
    if (e.name == name) return true;
  }
  return false;
}

Result<std::pair<std::string, std::string>> ParseNameValue(const std::string& text,
                                                           const std::string& what) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return Status::InvalidArgument(what + " '" + Snippet(text) + "': expected NAME=VALUE");
  }
  if (!IsValidUtf8(std::string_view(text).substr(0, eq))) {
    return Status::InvalidArgument(what + " '" + Snippet(text) + "': the name is not valid UTF-8");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

}  // namespace dim::core
