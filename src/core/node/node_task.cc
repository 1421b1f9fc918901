#include "core/node/node_task.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/job/chained_config.h"
#include "core/job/config_reader.h"
#include "core/text.h"

namespace dim::core {
namespace {

using json = nlohmann::json;

constexpr char kParams[] = "input_data_json";

Status ParamError(const std::string& key, const std::string& what) {
  return Status::InvalidArgument(std::string(kParams) + "." + key + ": " + what);
}

Result<std::vector<std::string>> ReadStrings(const json& value, const std::string& key) {
  if (!value.is_array()) return ParamError(key, "expected an array");
  std::vector<std::string> out;
  for (const auto& v : value) {
    if (!v.is_string()) return ParamError(key, "expected strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<ConsensusSettings> ReadConsensus(const json& value) {
  if (!value.is_object()) return ParamError("consensus", "expected an object");
  ConsensusSettings settings;
  for (const auto& [key, v] : value.items()) {
    if (key == "method") {
      auto method = v.is_string() ? ParseConsensusMethod(v.get<std::string>()) : std::nullopt;
      if (!method) return ParamError("consensus.method", "expected a consensus method's name");
      settings.method = *method;
    } else if (key == "weights") {
      if (!v.is_array()) return ParamError("consensus.weights", "expected an array");
      for (const auto& w : v) {
        if (!w.is_number()) return ParamError("consensus.weights", "expected numbers");
        settings.weights.push_back(w.get<double>());
      }
    } else if (key == "min_agreement") {
      if (!v.is_number()) return ParamError("consensus.min_agreement", "expected a number");
      settings.min_agreement = v.get<double>();
    } else {
      return ParamError("consensus." + key, "unknown key");
    }
  }
  return settings;
}

Result<DifferentialPrivacy> ReadPrivacy(const json& value) {
  const std::string key = "differential_privacy";
  if (!value.is_object()) return ParamError(key, "expected an object");
  DifferentialPrivacy dp;
  for (const auto& [k, v] : value.items()) {
    if (k == "epsilon" && v.is_number()) {
      dp.epsilon = v.get<double>();
    } else if (k == "clip" && v.is_array() && v.size() == 2 && v[0].is_number() &&
               v[1].is_number()) {
      dp.clip_lo = v[0].get<double>();
      dp.clip_hi = v[1].get<double>();
    } else {
      return ParamError(key + "." + k, k == "epsilon" || k == "clip" ? "malformed" : "unknown key");
    }
  }
  if (Status s = CheckDifferentialPrivacy(dp); !s.ok()) {
    return Status::InvalidArgument(std::string(kParams) + "." + key + "." + s.message());
  }
  return dp;
}

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
  json out = json::array();
  for (Eigen::Index r = 0; r < rows.rows(); ++r) {
    json row = json::array();
    for (Eigen::Index c = 0; c < rows.cols(); ++c) {
      // The float's shortest decimal form ("0.1", not 0.10000000149011612): the JSON text
      // is half as long and reads back as the same float.
      char buf[32];
      const auto end = std::to_chars(buf, buf + sizeof buf, rows(r, c)).ptr;
      *end = '\0';
      row.push_back(std::strtod(buf, nullptr));
    }
    out.push_back(std::move(row));
  }
  return out;
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

std::string NodeTaskParamsJson(const NodeTask& task) {
  json j = json::object();
  if (task.kind == NodeTaskKind::kComparative) {
    j["kind"] = NodeTaskKindName(task.kind);
    j["model_ids"] = task.model_ids;
    json consensus = {{"method", ConsensusMethodName(task.consensus.method)}};
    if (!task.consensus.weights.empty()) consensus["weights"] = task.consensus.weights;
    if (task.consensus.method == ConsensusMethod::kExpertReview) {
      consensus["min_agreement"] = task.consensus.min_agreement;
    }
    j["consensus"] = std::move(consensus);
  }
  if (task.kind == NodeTaskKind::kStep) {
    j["kind"] = NodeTaskKindName(task.kind);
    if (!task.through.empty()) j["through"] = task.through;
    if (task.input_rows) j["rows"] = RowsToJson(*task.input_rows);
  }
  if (!task.columns.empty()) j["columns"] = task.columns;
  if (!task.task.empty()) j["task"] = task.task;
  if (task.differential_privacy) {
    const DifferentialPrivacy& dp = *task.differential_privacy;
    j["differential_privacy"] = {{"epsilon", dp.epsilon}, {"clip", {dp.clip_lo, dp.clip_hi}}};
  }
  return DumpJson(j);
}

Result<NodeTask> NodeTaskFromRequest(std::string job_id, std::string model_id,
                                     std::string data_source, std::string_view params_json) {
  NodeTask task;
  task.job_id = std::move(job_id);
  task.model_id = std::move(model_id);
  if (task.job_id.empty()) return Status::InvalidArgument("job_id: must not be empty");
  if (task.model_id.empty()) return Status::InvalidArgument("model_id: must not be empty");
  if (!data_source.empty()) task.dataset = std::move(data_source);
  if (params_json.empty()) return task;
  // As strict as a job's config: bounded depth, no key given twice.
  auto parsed = ParseJsonText(params_json);
  if (!parsed.ok()) return parsed.status().WithPrefix("input_data_json");
  const json j = *std::move(parsed);
  if (!j.is_object()) return Status::InvalidArgument("input_data_json: expected a JSON object");
  if (auto kind = j.find("kind"); kind != j.end()) {
    if (*kind == "comparative") {
      task.kind = NodeTaskKind::kComparative;
    } else if (*kind == "step") {
      task.kind = NodeTaskKind::kStep;
    } else if (*kind != "summary") {
      return ParamError("kind", "expected summary, comparative or step");
    }
  }
  const bool comparative = task.kind == NodeTaskKind::kComparative;
  const bool summary = task.kind == NodeTaskKind::kSummary;
  const bool step = task.kind == NodeTaskKind::kStep;
  for (const auto& [key, value] : j.items()) {
    if (key == "kind") continue;
    if (key == "columns") {
      DIM_ASSIGN_OR_RETURN(task.columns, ReadStrings(value, key));
    } else if (key == "task" && summary) {
      if (!value.is_string()) return ParamError(key, "expected a string");
      task.task = value.get<std::string>();
      if (task.task != "classification" && task.task != "regression") {
        return ParamError(key, "expected classification or regression");
      }
    } else if (key == "differential_privacy" && summary) {
      DIM_ASSIGN_OR_RETURN(task.differential_privacy, ReadPrivacy(value));
    } else if (key == "model_ids" && comparative) {
      DIM_ASSIGN_OR_RETURN(task.model_ids, ReadStrings(value, key));
    } else if (key == "consensus" && comparative) {
      DIM_ASSIGN_OR_RETURN(task.consensus, ReadConsensus(value));
    } else if (key == "through" && step) {
      DIM_ASSIGN_OR_RETURN(task.through, ReadStrings(value, key));
    } else if (key == "rows" && step) {
      DIM_ASSIGN_OR_RETURN(task.input_rows, RowsFromJson(value, std::string(kParams) + ".rows"));
    } else {
      return ParamError(key, "unknown key");
    }
  }
  if (comparative) {
    if (Status s = CheckConsensusSettings(task.consensus, task.model_ids.size()); !s.ok()) {
      return Status::InvalidArgument(std::string(kParams) + "." + s.message());
    }
    if (task.model_ids[0] != task.model_id) {
      return ParamError(
          "model_ids[0]",
          "'" + task.model_ids[0] + "' is not the request's model_id '" + task.model_id + "'");
    }
  }
  if (step && task.input_rows && (!task.through.empty() || !task.columns.empty())) {
    return ParamError(task.through.empty() ? "columns" : "through",
                      "only used when the step reads a dataset, not with rows");
  }
  return task;
}

}  // namespace dim::core
