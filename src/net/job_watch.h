// WatchJob: a server stream of a job's status, from now until the job ends.
#pragma once

#include <grpcpp/grpcpp.h>

#include "core/engine/job_service.h"
#include "orchestrator.pb.h"

namespace dim::net {

// Writes the job's status at once, then after every stored change (changes that arrive
// while a write is in flight are folded into the next one, so a slow reader sees the latest
// state, not every step; progress goes out at most every 100 ms, the job's end at once),
// and finishes OK after writing the state the job ended in.
// NOT_FOUND for an unknown job. A reader that goes away stops the watch.
grpc::ServerWriteReactor<dim::orchestrator::JobStatusResponse>* WatchJobReactor(
    core::JobService& jobs, const dim::orchestrator::WatchJobRequest& request);

}  // namespace dim::net
