// Node tasks and their results on the daemon's wire (daemon.SubmitJobRequest and
// daemon.JobStatusResponse): the one place that turns them into text and bytes and back.
#pragma once

#include <string>
#include <string_view>

#include "core/node/node_task.h"
#include "core/node/task_queue.h"
#include "core/node/task_result.h"
#include "core/status.h"
#include "daemon.pb.h"

namespace dim::net {

// The task's parameters as carried in daemon.SubmitJobRequest.input_data_json:
//   summary:     {"columns": [...], "task": "...",
//                 "differential_privacy": {"epsilon": e, "clip": [lo, hi]}} (each only when
//                set; no "kind", so that older daemons read it)
//   comparative: {"kind": "comparative", "model_ids": [...], "columns": [...],
//                 "consensus": {"method": "...", "weights": [...], "min_agreement": x}}
//   step:        {"kind": "step", "through": [...], "columns": [...]} over the dataset, or
//                {"kind": "step"} with the rows in SubmitJobRequest.input_rows, or, when
//                task.rows_as_json, {"kind": "step", "rows": [[...], ...]} (at most
//                kMaxClientValues numbers)
std::string NodeTaskParamsJson(const core::NodeTask& task);

// The request that asks a daemon to run `task`: its ids, dataset, parameters, user and
// priority, and a step's rows as a tensor (input_rows) unless task.rows_as_json.
void ToRequest(const core::NodeTask& task, dim::daemon::SubmitJobRequest* req);

// Rebuilds a task from a daemon request. A params object without "kind" is a summary task.
// INVALID_ARGUMENT naming the field ("input_data_json.weights: 3 weights for 2 models ...")
// when input_data_json is malformed, has unknown keys or keys of the other kind, or the
// consensus settings do not fit the models (CheckConsensusSettings), or the differential
// privacy settings are invalid (CheckDifferentialPrivacy); when model_ids[0] is not
// model_id; when a step's rows are empty, ragged, not finite numbers or too many, come
// with "through" or "columns", or come both as "rows" and as input_rows; and when
// input_rows is not a valid tensor (MatrixFromTensor) or comes with a task that is not a
// step. Rows in "rows" set rows_as_json, so that the output rows go back the same way.
core::Result<core::NodeTask> TaskFromRequest(const dim::daemon::SubmitJobRequest& req);

// The task's status as the daemon reports it: state, times, progress, and once completed
// the result's document in result_json and a step's output rows in output_rows (unless the
// task got its rows as JSON: they are then inside result_json).
void ToStatus(const core::TaskView& view, dim::daemon::JobStatusResponse* resp);

// What a daemon's completed task returned, read back from its status for `task`. INTERNAL
// "malformed ..." naming what is wrong: result_json that is not a JSON object of the task's
// kind, a summary or vote whose figures do not add up (SummaryFromJson, ConsensusFromJson),
// a step's output_shape that is not [rows, width], or output rows missing (when the task
// sent rows) or not of that shape. Takes the bytes out of `resp`.
core::Result<core::TaskResult> TaskResultFromStatus(const core::NodeTask& task,
                                                    dim::daemon::JobStatusResponse& resp);

// The inverse of ConsensusToJson: INVALID_ARGUMENT naming the missing or mistyped figure,
// or figures of the wrong length for `classes` and the models.
core::Result<core::ConsensusResult> ConsensusFromJson(const nlohmann::json& vote);

}  // namespace dim::net
