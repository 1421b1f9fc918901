#include "core/node/task_result.h"

#include "core/text.h"

namespace dim::core {

int64_t ResultRows(const TaskResult& result) {
  if (const auto* vote = std::get_if<ConsensusResult>(&result)) return vote->rows;
  if (const auto* step = std::get_if<StepOutput>(&result)) return step->summary.rows;
  return std::get<Summary>(result).rows;
}

nlohmann::json TaskDocument(const NodeTask& task, const TaskResult& result, bool rows_in_json) {
  if (const auto* vote = std::get_if<ConsensusResult>(&result)) {
    return ConsensusToJson(*vote, task.consensus.method);
  }
  if (const auto* step = std::get_if<StepOutput>(&result)) {
    nlohmann::json doc;
    if (rows_in_json && step->rows) doc["output_rows"] = RowsToJson(*step->rows);
    doc["summary"] = SummaryToJson(step->summary);
    doc["output_shape"] = {step->summary.rows, step->width};
    return doc;
  }
  return SummaryToJson(std::get<Summary>(result));
}

std::string ReleasedBytes(const NodeTask& task, const TaskResult& result,
                          const std::string& document) {
  std::string bytes = document;
  const auto* step = std::get_if<StepOutput>(&result);
  if (step != nullptr && step->rows && !task.rows_as_json) {
    AppendFloat32Le(step->rows->data(), static_cast<size_t>(step->rows->size()), bytes);
  }
  return bytes;
}

}  // namespace dim::core
