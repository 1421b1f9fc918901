// core job records -> orchestrator protocol messages.
#pragma once

#include "core/job_types.h"
#include "orchestrator.pb.h"

namespace dim::net {

void ToProto(const core::JobRecord& job, dim::orchestrator::JobStatusResponse* out);

}  // namespace dim::net

namespace dim::net {

// The inverse, for clients.
core::JobRecord FromProto(const dim::orchestrator::JobStatusResponse& in);

}  // namespace dim::net
