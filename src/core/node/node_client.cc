#include "core/node/node_client.h"

namespace dim::core {

Result<Summary> NodeClient::RunSummaryTask(const NodeTask& task, const CancelToken& cancel,
                                           std::chrono::milliseconds timeout) {
  DIM_ASSIGN_OR_RETURN(nlohmann::json document, RunTask(task, cancel, timeout));
  auto summary = SummaryFromJson(document);
  if (!summary.ok()) {
    return Status::Internal("the node sent a malformed summary: " + summary.status().message());
  }
  return summary;
}

}  // namespace dim::core
