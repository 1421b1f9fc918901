// A NodeClient for tests whose node answers with a Summary, sent on as the node's result
// document as a daemon's summary task sends it. Subclasses decide the answer (and may
// block, record tasks or honour cancellation) in Answer.
#pragma once

#include <chrono>

#include <nlohmann/json.hpp>

#include "core/node/node_client.h"
#include "core/stats/summary.h"

namespace dim::testing {

class SummaryNode : public core::NodeClient {
 public:
  core::Result<nlohmann::json> RunTask(const core::NodeTask& task,
                                       const core::CancelToken& cancel,
                                       std::chrono::milliseconds timeout) final {
    auto summary = Answer(task, cancel, timeout);
    if (!summary.ok()) return summary.status();
    return core::SummaryToJson(*summary);
  }

 protected:
  virtual core::Result<core::Summary> Answer(const core::NodeTask& task,
                                             const core::CancelToken& cancel,
                                             std::chrono::milliseconds timeout) = 0;
};

}  // namespace dim::testing
