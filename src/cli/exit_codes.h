// The exit codes of `dim`, as documented in dim(1).
#pragma once

#include "core/job_types.h"
#include "core/status.h"

namespace dim::cli {

enum ExitCode : int {
  kExitOk = 0,            // success; job COMPLETED
  kExitJobFailed = 1,     // job FAILED, or another error
  kExitUsage = 2,         // usage or config error
  kExitUnreachable = 3,   // server unreachable
  kExitNotFound = 4,      // job, node, model or dataset not found
  kExitDenied = 5,        // permission denied
  kExitCancelled = 6,     // job CANCELLED
  kExitWaitTimeout = 7,   // timed out waiting
};

// The exit code for a failed call.
inline int ExitCodeFor(const core::Status& status) {
  switch (status.code()) {
    case core::StatusCode::kOk: return kExitOk;
    case core::StatusCode::kInvalidArgument:
    case core::StatusCode::kUnimplemented:
    case core::StatusCode::kOutOfRange: return kExitUsage;
    case core::StatusCode::kUnavailable: return kExitUnreachable;
    case core::StatusCode::kNotFound: return kExitNotFound;
    case core::StatusCode::kPermissionDenied:
    case core::StatusCode::kUnauthenticated: return kExitDenied;
    default: return kExitJobFailed;
  }
}

// The exit code for a job that ended (or has not).
inline int ExitCodeFor(core::JobState state) {
  switch (state) {
    case core::JobState::kCompleted: return kExitOk;
    case core::JobState::kCancelled: return kExitCancelled;
    case core::JobState::kFailed: return kExitJobFailed;
    default: return kExitOk;
  }
}

}  // namespace dim::cli
