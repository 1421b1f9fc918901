// One node's part of a job: which model(s) to run on which of the node's datasets.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job_types.h"
#include "core/matrix.h"
#include "core/stats/consensus.h"
#include "core/stats/private_summary.h"
#include "core/status.h"

namespace dim::core {

enum class NodeTaskKind {
  // One model over the dataset; the node returns the output's Summary (collaborative).
  kSummary,
  // Several models over the same rows, voted on the node; it returns a ConsensusResult
  // (comparative).
  kComparative,
  // One step of a pipeline (chained): one model over either the node's dataset (first
  // through the models of the earlier steps that derived the input, on this node) or rows
  // the orchestrator sends. It returns the output's summary and shape, and the output rows
  // only when the input rows were sent (they came from the client): rows read from a
  // dataset never leave the node.
  kStep,
};

struct NodeTask {
  std::string job_id;
  NodeTaskKind kind = NodeTaskKind::kSummary;
  // The model of a summary task; for a comparative task, the first of model_ids (the
  // daemon request's model_id).
  std::string model_id;
  // Comparative only: every model, in order (at least 2).
  std::vector<std::string> model_ids;
  std::string dataset = "default";
  // Feature columns, in order; empty means every column.
  std::vector<std::string> columns;
  // Summary only: "", "classification" or "regression" (see CollaborativeConfig::task).
  std::string task;
  // Summary only: when set, the node clips its outputs and adds Laplace noise to the summary
  // before it leaves (see AddLaplaceNoise).
  std::optional<DifferentialPrivacy> differential_privacy = std::nullopt;
  // Comparative only.
  ConsensusSettings consensus;
  // Step only: models the dataset's rows go through, in order, before model_id (the earlier
  // steps of the pipeline that derive this step's input on this node).
  std::vector<std::string> through;
  // Step only: the input rows when they came from the client (directly or through earlier
  // steps); unset: the step reads `dataset` (with `columns`).
  std::optional<Matrix> input_rows;
  // Step only: the rows came inside input_data_json (from an orchestrator that sends them as
  // JSON), so the output rows go back inside result_json too; otherwise both travel as binary
  // tensors (or, in-process, as matrices).
  bool rows_as_json = false;
  // The job's priority, for the node's queue.
  Priority priority = Priority::kNormal;
  // The job's user (the authenticated one, when the orchestrator authenticates users), for
  // the node's policy and logs; "" when unknown.
  std::string user_id{};
};

// "summary", "comparative", "step": the kind as input_data_json's "kind" names it.
std::string_view NodeTaskKindName(NodeTaskKind kind);

// Rows as a JSON array of arrays of numbers (a step's input or output rows).
nlohmann::json RowsToJson(const Matrix& rows);
// The inverse: a non-empty array of equally long, non-empty arrays of finite numbers, at
// most kMaxClientValues of them. INVALID_ARGUMENT naming the place from `path`:
// "<path>[1]: expected 2 numbers like row 0", "<path>[0][1]: expected a finite number".
Result<Matrix> RowsFromJson(const nlohmann::json& value, std::string_view path);

}  // namespace dim::core
