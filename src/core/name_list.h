// Names listed in messages: "a, b, c".
#pragma once

#include <string>

namespace dim::core {

// Joins name(item) for each item with ", "; empty when there are no items.
template <typename Items, typename NameOf>
std::string JoinNames(const Items& items, NameOf name) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += name(item);
  }
  return out;
}

template <typename Items>
std::string JoinNames(const Items& items) {
  return JoinNames(items, [](const auto& s) -> const std::string& { return s; });
}

}  // namespace dim::core
