// The Orchestrator service's calls for rows too many for one message: SubmitJobStream (a
// pipeline's input rows in chunks) and GetJobRows (its output rows in chunks).
// OrchestratorService checks the caller, then hands the call to these reactors.
#pragma once

#include <functional>
#include <string>

#include "core/engine/job_service.h"
#include "core/node/thread_pool.h"
#include "orchestrator.grpc.pb.h"

namespace dim::net {

// Checks a streamed submit's first message as SubmitJob checks its request (the caller's
// rights, the config's size, pattern and priority), giving the job to submit.
using SubmitCheck =
    std::function<core::Result<core::SubmitRequest>(const dim::orchestrator::SubmitJobRequest&)>;
// Told how a streamed submit ended: the job stored, or why not.
using SubmitEnded = std::function<void(const core::Result<core::JobRecord>&)>;

// SubmitJobStream. The first message must be the job; each later one carries rows (a
// Tensor, at most kMaxClientValues numbers) until the last, `end`, which counts them, read and
// stored on `pool` one message at a time, so that a client sends no faster than the store takes its
// rows. Errors, also in the response's Error: INVALID_ARGUMENT (no job first, rows first, a job
// sent twice, rows that are not rows: the field named "rows[3].data: ..."; the job's own errors),
// those of JobService::BeginUpload and RowUpload. A client that goes away leaves nothing stored.
grpc::ServerReadReactor<dim::orchestrator::SubmitJobChunk>* SubmitJobStreamReactor(
    core::JobService& jobs, core::ThreadPool& pool, grpc::CallbackServerContext* ctx,
    dim::orchestrator::SubmitJobResponse* resp, SubmitCheck check, SubmitEnded on_end);

// GetJobRows of `job` (the caller may see it): the output rows of a completed pipeline, in
// order, as tensors of at most kMaxClientValues numbers each, read from the store on `pool`
// one at a time as the client takes them. FAILED_PRECONDITION when the job has not completed
// or has no output rows.
grpc::ServerWriteReactor<dim::common::Tensor>* JobRowsReactor(core::JobService& jobs,
                                                              core::ThreadPool& pool,
                                                              core::JobRecord job);

}  // namespace dim::net
