#include "core/node/node_task.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/client_data.h"
#include "core/job/chained_config.h"
#include "core/job/config_reader.h"
#include "core/text.h"

namespace dim::core {
namespace {

using json = nlohmann::json;

}  // namespace

Result<Matrix> RowsFromJson(const json& value, std::string_view path) {
  const std::string at(path);
  auto error = [&](const std::string& where, const std::string& what) {
    return Status::InvalidArgument(at + where + ": " + what);
  };
  // "[3]" (appended, not concatenated: GCC 12 warns falsely about `"[" + std::to_string`).
  auto index = [](int64_t i) {
    std::string out = "[";
    out += std::to_string(i);
    out += ']';
    return out;
  };
  if (!value.is_array() || value.empty()) return error("", "expected a non-empty array");
  if (!value[0].is_array() || value[0].empty()) {
    return error("[0]", "expected a non-empty array of numbers");
  }
  const auto rows = static_cast<int64_t>(value.size());
  const auto width = static_cast<int64_t>(value[0].size());
  if (rows * width > kMaxClientValues) {
    return error("", std::to_string(rows * width) + " numbers, more than the " +
                         std::to_string(kMaxClientValues) + " a task may carry");
  }
  Matrix m(rows, width);
  for (int64_t r = 0; r < rows; ++r) {
    const json& row = value[static_cast<size_t>(r)];
    if (!row.is_array() || static_cast<int64_t>(row.size()) != width) {
      return error(index(r),
                   "expected " + std::to_string(width) + " numbers like row 0");
    }
    for (int64_t c = 0; c < width; ++c) {
      const json& v = row[static_cast<size_t>(c)];
      if (!v.is_number() || !std::isfinite(v.get<double>())) {
        return error(index(r) + index(c),
                     "expected a finite number");
      }
      m(r, c) = v.get<float>();
    }
  }
  return m;
}

json RowsToJson(const Matrix& rows) {
  return FloatRowsToJson(rows.data(), rows.rows(), rows.cols());
}

std::string_view NodeTaskKindName(NodeTaskKind kind) {
  switch (kind) {
    case NodeTaskKind::kSummary:
      return "summary";
    case NodeTaskKind::kComparative:
      return "comparative";
    case NodeTaskKind::kStep:
      return "step";
  }
  return "summary";
}

}  // namespace dim::core
