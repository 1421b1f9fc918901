// What the job commands talk to: an orchestrator over gRPC, or the engine in-process
// (--local). The commands never know which.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/global_options.h"
#include "core/engine/job_service.h"
#include "core/node/node_client.h"

namespace dim::cli {

struct HealthReport {
  std::string server;   // address, or "local"
  std::string status;   // SERVING
  std::string version;
  std::vector<core::NodeDescription> nodes;
};

using ProgressFn = std::function<void(const core::JobRecord&)>;

class JobBackend {
 public:
  virtual ~JobBackend() = default;
  virtual core::Result<core::JobRecord> Submit(const core::SubmitRequest& request) = 0;
  // A pipeline whose rows are too many for one message: the job, then the rows `next`
  // gives, chunk by chunk. `size_bytes`: how much is to come (0: not known), for deadlines.
  virtual core::Result<core::JobRecord> SubmitStreamed(const core::SubmitRequest& request,
                                                       const core::RowSource& next,
                                                       int64_t size_bytes) = 0;
  // A completed pipeline's output rows, in order, chunk by chunk.
  virtual core::Status ReadOutputRows(const core::JobRecord& job, const core::RowSink& sink) = 0;
  // Asks the job's nodes whether they would accept it; runs and stores nothing.
  virtual core::Result<std::vector<core::JobService::NodeDryRun>> DryRun(
      const core::SubmitRequest& request) = 0;
  virtual core::Result<core::JobRecord> Get(const std::string& id) = 0;
  virtual core::Result<core::JobPage> List(const core::JobQuery& query) = 0;
  virtual core::Result<core::JobRecord> Cancel(const std::string& id) = 0;
  // Until the job ends (DEADLINE_EXCEEDED after `timeout`), calling `progress` on changes.
  virtual core::Result<core::JobRecord> Wait(const std::string& id,
                                             std::chrono::milliseconds timeout,
                                             const ProgressFn& progress) = 0;
  virtual core::Result<HealthReport> Health() = 0;
};

// UNAVAILABLE-style errors name the server address.
core::Result<std::unique_ptr<JobBackend>> MakeRemoteBackend(const GlobalOptions& options);
// Opens the local job file; builds in-process nodes from --local-node and --models.
// INVALID_ARGUMENT for a malformed --local-node or an unreadable dataset.
core::Result<std::unique_ptr<JobBackend>> MakeLocalBackend(const GlobalOptions& options);

}  // namespace dim::cli
