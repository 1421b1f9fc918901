// Local mode: nodes that live in this process, each with its own datasets and model folder.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "core/node/dataset_catalog.h"
#include "core/node/model_repository.h"
#include "core/node/node_client.h"
#include "core/node/task_runner.h"

namespace dim::core {

class InProcessNode final : public NodeClient {
 public:
  // policy: the node's own, as a daemon's (local mode uses the default, min_samples 10).
  InProcessNode(std::string id, std::shared_ptr<ModelRepository> models, DatasetCatalog datasets,
                NodePolicy policy = NodePolicy{});

  // Runs on the calling thread under the node's policy; the engine enforces the job's time
  // limit.
  Result<nlohmann::json> RunTask(const NodeTask& task, const CancelToken& cancel,
                                 std::chrono::milliseconds timeout) override;
  NodeDescription Describe() const;

 private:
  std::string id_;
  std::shared_ptr<ModelRepository> models_;
  DatasetCatalog datasets_;
  NodePolicy policy_;
};

class InProcessDirectory final : public NodeDirectory {
 public:
  // INVALID_ARGUMENT when the id is taken.
  [[nodiscard]] Status Add(std::string id, std::shared_ptr<InProcessNode> node);
  Result<std::shared_ptr<NodeClient>> Client(const std::string& node_id) override;
  std::vector<NodeDescription> Describe() override;

 private:
  std::map<std::string, std::shared_ptr<InProcessNode>> nodes_;
};

}  // namespace dim::core
