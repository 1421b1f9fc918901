// One node's part of a job: which model to run on which of the node's datasets.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace dim::core {

struct NodeTask {
  std::string job_id;
  std::string model_id;
  std::string dataset = "default";
  // Feature columns, in order; empty means every column.
  std::vector<std::string> columns;
  // "", "classification" or "regression" (see CollaborativeConfig::task).
  std::string task;
};

// The task's parameters as carried in daemon.SubmitJobRequest.input_data_json.
std::string NodeTaskParamsJson(const NodeTask& task);

// Rebuilds a task from the daemon request's fields. INVALID_ARGUMENT naming the field when
// input_data_json is malformed or has unknown keys.
Result<NodeTask> NodeTaskFromRequest(std::string job_id, std::string model_id,
                                     std::string data_source, std::string_view params_json);

}  // namespace dim::core
