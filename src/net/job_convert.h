// core job records -> orchestrator protocol messages.
#pragma once

#include "core/engine/job_service.h"
#include "core/job_types.h"
#include "orchestrator.pb.h"

namespace dim::net {

// `with_events`: the job's timeline too (GetJobStatus). `rows_as_tensor`: a pipeline's
// output rows in output_rows (binary) rather than inside result_json.
void ToProto(const core::JobRecord& job, dim::orchestrator::JobStatusResponse* out,
             bool with_events = false, bool rows_as_tensor = false);

// The job's result document into *result_json, with its output rows inside it (JobResultJson)
// or, with rows_as_tensor, as a tensor into *output_rows (left untouched when it has none).
void SetResult(const core::JobRecord& job, bool rows_as_tensor, std::string* result_json,
               dim::common::Tensor* output_rows);

// A dry run's verdicts, into SubmitJobResponse.dry_run, and back.
void ToProto(const std::vector<core::JobService::NodeDryRun>& report,
             dim::orchestrator::SubmitJobResponse* out);
std::vector<core::JobService::NodeDryRun> DryRunFromProto(
    const dim::orchestrator::SubmitJobResponse& resp);

}  // namespace dim::net

namespace dim::net {

// The inverse, for clients. Output rows sent as a tensor go to output_rows; a malformed
// tensor is INVALID_ARGUMENT naming it (MatrixFromTensor).
core::Result<core::JobRecord> FromProto(const dim::orchestrator::JobStatusResponse& in);

}  // namespace dim::net
