// What a node task returns, typed: the figures (and, for a step over rows sent with the task,
// the rows) that leave the node. Patterns read these; text is made only at the edges.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "core/matrix.h"
#include "core/node/node_task.h"
#include "core/stats/consensus.h"
#include "core/stats/summary.h"

namespace dim::core {

// A pipeline step's result: the summary of its outputs and their shape, and the output rows
// themselves only for a step over rows sent with the task (rows read from a dataset never
// leave the node).
struct StepOutput {
  Summary summary;
  int64_t width = 0;           // output_shape is [summary.rows, width]
  std::optional<Matrix> rows;  // summary.rows x width
};

// A summary task's Summary, a comparative task's vote, or a step's output.
using TaskResult = std::variant<Summary, ConsensusResult, StepOutput>;

// The rows the result covers (its summary's, or its vote's).
int64_t ResultRows(const TaskResult& result);

// The result as the document that leaves the node (daemon.JobStatusResponse.result_json):
// SummaryToJson for a summary, ConsensusToJson (with the task's method) for a vote, and for
// a step {"summary": ..., "output_shape": [rows, width]}, with "output_rows" (RowsToJson) only
// when `rows_in_json` (the rows otherwise travel as binary beside it).
nlohmann::json TaskDocument(const NodeTask& task, const TaskResult& result, bool rows_in_json);

// The exact bytes a task releases, as its node's ledger hashes them: `document`, the
// result's text (DumpJson of TaskDocument, with the rows inside when task.rows_as_json),
// followed, for a step whose rows travel as binary, by those rows as float32 little-endian,
// row after row.
std::string ReleasedBytes(const NodeTask& task, const TaskResult& result,
                          const std::string& document);

}  // namespace dim::core
