#include "core/node/in_process_node.h"

#include "core/models/model_ref.h"
#include "core/node/task_runner.h"

namespace dim::core {

InProcessNode::InProcessNode(std::string id, std::shared_ptr<ModelRepository> models,
                             DatasetCatalog datasets, NodePolicy policy)
    : id_(std::move(id)),
      models_(std::move(models)),
      datasets_(std::move(datasets)),
      policy_(policy) {}

Result<nlohmann::json> InProcessNode::RunTask(const NodeTask& task, const CancelToken& cancel,
                                              std::chrono::milliseconds /*timeout*/) {
  return RunNodeTask(*models_, datasets_, task, cancel, policy_);
}

NodeDescription InProcessNode::Describe() const {
  NodeDescription d;
  d.id = id_;
  d.source = "local";
  d.described = true;
  d.datasets = datasets_.entries();
  d.models = models_->List();
  // Models by content: a file of the folder whose sha256 is the id's.
  d.can_get_model = [models = models_](const std::string& id) {
    return Sha256OfModelId(id) && models->CheckAvailable(id).ok();
  };
  return d;
}

Status InProcessDirectory::Add(std::string id, std::shared_ptr<InProcessNode> node) {
  if (nodes_.count(id)) return Status::InvalidArgument("node '" + id + "' given twice");
  nodes_.emplace(std::move(id), std::move(node));
  return Status::Ok();
}

Result<std::shared_ptr<NodeClient>> InProcessDirectory::Client(const std::string& node_id) {
  auto it = nodes_.find(node_id);
  if (it == nodes_.end()) return Status::NotFound("node '" + node_id + "' not found");
  return std::shared_ptr<NodeClient>(it->second);
}

std::vector<NodeDescription> InProcessDirectory::Describe() {
  std::vector<NodeDescription> out;
  for (const auto& [id, node] : nodes_) out.push_back(node->Describe());
  return out;
}

}  // namespace dim::core
