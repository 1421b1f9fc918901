#include "core/node/node_task.h"

#include <nlohmann/json.hpp>

namespace dim::core {

std::string NodeTaskParamsJson(const NodeTask& task) {
  nlohmann::json j = nlohmann::json::object();
  if (!task.columns.empty()) j["columns"] = task.columns;
  if (!task.task.empty()) j["task"] = task.task;
  return j.dump();
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
  auto j = nlohmann::json::parse(params_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("input_data_json: expected a JSON object");
  }
  for (const auto& [key, value] : j.items()) {
    if (key == "columns") {
      if (!value.is_array()) return Status::InvalidArgument("input_data_json.columns: expected an array");
      for (const auto& c : value) {
        if (!c.is_string()) {
          return Status::InvalidArgument("input_data_json.columns: expected strings");
        }
        task.columns.push_back(c.get<std::string>());
      }
    } else if (key == "task") {
      if (!value.is_string()) return Status::InvalidArgument("input_data_json.task: expected a string");
      task.task = value.get<std::string>();
      if (task.task != "classification" && task.task != "regression") {
        return Status::InvalidArgument("input_data_json.task: expected classification or regression");
      }
    } else {
      return Status::InvalidArgument("input_data_json." + key + ": unknown key");
    }
  }
  return task;
}

}  // namespace dim::core
