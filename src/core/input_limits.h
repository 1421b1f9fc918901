// Bounds on input shared by every layer that reads it: a dataset's header, a job's config and
// what a node reports of itself all hold names and columns, and agree on how many and how
// long, so that whatever one accepts the others can take.
#pragma once

#include <cstddef>

namespace dim::core {

// The most columns a dataset, or a job's column list, may have.
inline constexpr size_t kMaxColumns = 100000;
// The longest name (model, node, dataset, column, step) a config or a node's report may hold.
inline constexpr size_t kMaxNameBytes = 1024;

}  // namespace dim::core
