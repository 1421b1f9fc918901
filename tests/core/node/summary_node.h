// A NodeClient for tests whose node answers with a Summary, as a summary task's result. Subclasses
// decide the answer (and may block, record tasks or honour cancellation) in Answer.
#pragma once

#include <chrono>

#include "core/node/node_client.h"
#include "core/stats/summary.h"

namespace dim::testing {

class SummaryNode : public core::NodeClient {
 public:
  core::Result<core::TaskResult> RunTask(const core::NodeTask& task,
                                         const core::CancelToken& cancel,
                                         std::chrono::milliseconds timeout) final {
    auto summary = Answer(task, cancel, timeout);
    if (!summary.ok()) return summary.status();
    return core::TaskResult(*std::move(summary));
  }

 protected:
  virtual core::Result<core::Summary> Answer(const core::NodeTask& task,
                                             const core::CancelToken& cancel,
                                             std::chrono::milliseconds timeout) = 0;
};

}  // namespace dim::testing
