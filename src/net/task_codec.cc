#include "net/task_codec.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "core/job/chained_config.h"
#include "core/job/config_reader.h"
#include "core/stats/summary.h"
#include "core/text.h"
#include "net/tensor_codec.h"

namespace dim::net {
namespace {

using json = nlohmann::json;
using core::CheckConsensusSettings;
using core::ConsensusMethod;
using core::ConsensusSettings;
using core::DifferentialPrivacy;
using core::DumpJson;
using core::NodeTask;
using core::NodeTaskKind;
using core::ParseConsensusMethod;
using core::ParseJsonText;
using core::Result;
using core::RowsFromJson;
using core::RowsToJson;
using core::Status;

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
    if (task.input_rows && task.rows_as_json) j["rows"] = RowsToJson(*task.input_rows);
  }
  if (!task.columns.empty()) j["columns"] = task.columns;
  if (!task.task.empty()) j["task"] = task.task;
  if (task.differential_privacy) {
    const DifferentialPrivacy& dp = *task.differential_privacy;
    j["differential_privacy"] = {{"epsilon", dp.epsilon}, {"clip", {dp.clip_lo, dp.clip_hi}}};
  }
  return DumpJson(j);
}

namespace {

Result<NodeTask> TaskFromParams(const dim::daemon::SubmitJobRequest& req) {
  NodeTask task;
  task.job_id = req.job_id();
  task.model_id = req.model_id();
  if (task.job_id.empty()) return Status::InvalidArgument("job_id: must not be empty");
  if (task.model_id.empty()) return Status::InvalidArgument("model_id: must not be empty");
  if (!req.data_source().empty()) task.dataset = req.data_source();
  const std::string_view params_json = req.input_data_json();
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
      task.rows_as_json = true;
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
  return task;
}

}  // namespace

Result<NodeTask> TaskFromRequest(const dim::daemon::SubmitJobRequest& req) {
  DIM_ASSIGN_OR_RETURN(NodeTask task, TaskFromParams(req));
  if (req.has_input_rows()) {
    if (task.kind != NodeTaskKind::kStep) {
      return Status::InvalidArgument("input_rows: only a step task takes rows");
    }
    if (task.input_rows) {
      return Status::InvalidArgument(
          "input_rows: the rows are also in input_data_json.rows; send them once");
    }
    DIM_ASSIGN_OR_RETURN(task.input_rows,
                         MatrixFromTensor(req.input_rows(), "input_rows", core::kMaxClientValues));
  }
  if (task.kind == NodeTaskKind::kStep && task.input_rows &&
      (!task.through.empty() || !task.columns.empty())) {
    return ParamError(task.through.empty() ? "columns" : "through",
                      "only used when the step reads a dataset, not with rows");
  }
  return task;
}

void ToRequest(const NodeTask& task, dim::daemon::SubmitJobRequest* req) {
  req->set_job_id(task.job_id);
  req->set_model_id(task.model_id);
  req->set_data_source(task.dataset);
  req->set_input_data_json(NodeTaskParamsJson(task));
  req->set_priority(static_cast<dim::common::Priority>(task.priority));
  req->set_user_id(task.user_id);
  if (task.input_rows && !task.rows_as_json) ToTensor(*task.input_rows, req->mutable_input_rows());
}

void ToStatus(const core::TaskView& view, dim::daemon::JobStatusResponse* resp) {
  resp->set_job_id(view.job_id);
  resp->set_status(std::string(core::TaskStateName(view.state)));
  resp->set_result_json(view.result_json);
  resp->set_error(view.error.message());
  if (!view.error.ok()) {
    resp->set_error_code(std::string(core::StatusCodeName(view.error.code())));
  }
  resp->set_started_at(view.started_at);
  resp->set_completed_at(view.completed_at);
  if (!view.completed_at.empty()) {
    resp->set_execution_time(core::FormatDuration(view.execution_seconds));
  }
  resp->set_rows_done(view.rows_done);
  resp->set_rows_total(view.rows_total);
  if (view.result && !view.rows_as_json) {
    if (const auto* step = std::get_if<core::StepOutput>(view.result.get()); step && step->rows) {
      ToTensor(*step->rows, resp->mutable_output_rows());
    }
  }
}

namespace {

// A JSON integer >= 0 at `key` of `j`, or why not.
Result<int64_t> Count(const json& j, const std::string& key) {
  auto it = j.find(key);
  if (it == j.end()) return Status::InvalidArgument(key + ": missing");
  if (!it->is_number_integer() || it->get<int64_t>() < 0) {
    return Status::InvalidArgument(key + ": expected a non-negative integer");
  }
  return it->get<int64_t>();
}

// The array `value` as `length` values of T (non-negative integers, or finite numbers), or
// why not, naming `name`.
template <typename T>
Result<std::vector<T>> Values(const json& value, const std::string& name, size_t length) {
  if (!value.is_array() || value.size() != length) {
    return Status::InvalidArgument(name + ": expected " + std::to_string(length) + " values");
  }
  std::vector<T> out;
  out.reserve(length);
  for (const auto& v : value) {
    if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer() || v.get<int64_t>() < 0) {
        return Status::InvalidArgument(name + ": expected non-negative integers");
      }
    } else {
      if (!v.is_number() || !std::isfinite(v.get<double>())) {
        return Status::InvalidArgument(name + ": expected finite numbers");
      }
    }
    out.push_back(v.get<T>());
  }
  return out;
}

// The same for the value at `key` of `j`.
template <typename T>
Result<std::vector<T>> List(const json& j, const std::string& key, size_t length) {
  auto it = j.find(key);
  if (it == j.end()) return Status::InvalidArgument(key + ": missing");
  return Values<T>(*it, key, length);
}

// The most classes, or models, a vote may have, however the node describes it.
constexpr int64_t kMaxVoteWidth = 1 << 16;

}  // namespace

Result<core::ConsensusResult> ConsensusFromJson(const json& vote) {
  if (!vote.is_object()) return Status::InvalidArgument("expected a JSON object");
  core::ConsensusResult r;
  DIM_ASSIGN_OR_RETURN(r.rows, Count(vote, "rows"));
  DIM_ASSIGN_OR_RETURN(r.classes, Count(vote, "classes"));
  DIM_ASSIGN_OR_RETURN(r.no_consensus, Count(vote, "no_consensus"));
  DIM_ASSIGN_OR_RETURN(r.review_count, Count(vote, "review_count"));
  if (r.classes > kMaxVoteWidth) return Status::InvalidArgument("classes: too many");
  const auto classes = static_cast<size_t>(r.classes);
  DIM_ASSIGN_OR_RETURN(r.class_counts, List<int64_t>(vote, "class_counts", classes));
  auto level = vote.find("agreement_level");
  if (level == vote.end() || !level->is_number() || !std::isfinite(level->get<double>())) {
    return Status::InvalidArgument("agreement_level: expected a finite number");
  }
  r.agreement_level = level->get<double>();
  auto agreement = vote.find("model_agreement");
  if (agreement == vote.end() || !agreement->is_array() || agreement->size() < 2 ||
      agreement->size() > static_cast<size_t>(kMaxVoteWidth)) {
    return Status::InvalidArgument("model_agreement: expected one value per model");
  }
  const size_t models = agreement->size();
  DIM_ASSIGN_OR_RETURN(r.model_agreement, List<double>(vote, "model_agreement", models));
  auto pairs = vote.find("pairwise_agreement");
  if (pairs == vote.end() || !pairs->is_array() || pairs->size() != models) {
    return Status::InvalidArgument("pairwise_agreement: expected one row per model");
  }
  for (size_t m = 0; m < models; ++m) {
    DIM_ASSIGN_OR_RETURN(
        auto row,
        Values<double>((*pairs)[m], "pairwise_agreement[" + std::to_string(m) + "]", models));
    r.pairwise_agreement.push_back(std::move(row));
  }
  if (auto counts = vote.find("model_class_counts"); counts != vote.end()) {
    if (!counts->is_array() || counts->size() != models) {
      return Status::InvalidArgument("model_class_counts: expected one row per model");
    }
    for (size_t m = 0; m < models; ++m) {
      DIM_ASSIGN_OR_RETURN(
          auto row,
          Values<int64_t>((*counts)[m], "model_class_counts[" + std::to_string(m) + "]", classes));
      r.model_class_counts.push_back(std::move(row));
    }
  }
  if (auto rows = vote.find("review_rows"); rows != vote.end()) {
    if (!rows->is_array() || rows->size() > core::kMaxReviewRows) {
      return Status::InvalidArgument("review_rows: expected at most " +
                                     std::to_string(core::kMaxReviewRows) + " row indices");
    }
    DIM_ASSIGN_OR_RETURN(r.review_rows, List<int64_t>(vote, "review_rows", rows->size()));
    auto truncated = vote.find("review_rows_truncated");
    if (truncated != vote.end()) {
      if (!truncated->is_boolean()) {
        return Status::InvalidArgument("review_rows_truncated: expected true or false");
      }
      r.review_rows_truncated = truncated->get<bool>();
    }
  }
  return r;
}

Result<core::TaskResult> TaskResultFromStatus(const NodeTask& task,
                                              dim::daemon::JobStatusResponse& resp) {
  const std::string what = task.kind == NodeTaskKind::kSummary       ? "summary"
                           : task.kind == NodeTaskKind::kComparative ? "vote"
                                                                     : "step result";
  auto malformed = [&](const std::string& why) {
    return Status::Internal("malformed " + what + ": " + why);
  };
  const json doc = core::ParseUntrustedJson(resp.result_json());
  if (doc.is_discarded() || !doc.is_object()) return malformed("result_json is not a JSON object");
  if (task.kind == NodeTaskKind::kSummary) {
    auto summary = core::SummaryFromJson(doc);
    if (!summary.ok()) return malformed(summary.status().message());
    return core::TaskResult(*std::move(summary));
  }
  if (task.kind == NodeTaskKind::kComparative) {
    auto vote = ConsensusFromJson(doc);
    if (!vote.ok()) return malformed(vote.status().message());
    if (vote->model_agreement.size() != task.model_ids.size()) {
      return malformed(std::to_string(vote->model_agreement.size()) + " models voted, not " +
                       std::to_string(task.model_ids.size()));
    }
    return core::TaskResult(*std::move(vote));
  }
  core::StepOutput out;
  auto summary = doc.find("summary");
  if (summary == doc.end()) return malformed("no summary");
  auto parsed = core::SummaryFromJson(*summary);
  if (!parsed.ok()) return malformed(parsed.status().message());
  out.summary = *std::move(parsed);
  auto shape = doc.find("output_shape");
  if (shape == doc.end() || !shape->is_array() || shape->size() != 2 ||
      !(*shape)[0].is_number_integer() || !(*shape)[1].is_number_integer() ||
      (*shape)[0].get<int64_t>() != out.summary.rows || (*shape)[1].get<int64_t>() < 0) {
    return malformed("output_shape is not [rows, width] of its summary");
  }
  out.width = (*shape)[1].get<int64_t>();
  if (task.input_rows) {
    core::Result<core::Matrix> rows = Status::Internal("");
    if (auto in_json = doc.find("output_rows"); in_json != doc.end()) {
      rows = RowsFromJson(*in_json, "output_rows");
    } else if (resp.has_output_rows()) {
      rows = MatrixFromTensor(resp.output_rows(), "output_rows", core::kMaxClientValues);
      resp.mutable_output_rows()->clear_data();
    } else {
      return malformed("no output rows");
    }
    if (!rows.ok()) return malformed(rows.status().message());
    if (rows->rows() != out.summary.rows || rows->cols() != out.width) {
      return malformed("output rows are not of output_shape");
    }
    out.rows = *std::move(rows);
  }
  return core::TaskResult(std::move(out));
}
}  // namespace dim::net
