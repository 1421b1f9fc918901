// core job records -> orchestrator protocol messages.
#pragma once

#include "core/engine/job_service.h"
#include "core/job_types.h"
#include "orchestrator.pb.h"

namespace dim::net {

// `with_events`: the job's timeline too (GetJobStatus).
void ToProto(const core::JobRecord& job, dim::orchestrator::JobStatusResponse* out,
             bool with_events = false);

// A dry run's verdicts, into SubmitJobResponse.dry_run, and back.
void ToProto(const std::vector<core::JobService::NodeDryRun>& report,
             dim::orchestrator::SubmitJobResponse* out);
std::vector<core::JobService::NodeDryRun> DryRunFromProto(
    const dim::orchestrator::SubmitJobResponse& resp);

}  // namespace dim::net

namespace dim::net {

// The inverse, for clients.
core::JobRecord FromProto(const dim::orchestrator::JobStatusResponse& in);

}  // namespace dim::net
