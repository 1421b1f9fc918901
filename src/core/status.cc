#include "core/status.h"

#include <ostream>

#include "core/text.h"

namespace dim::core {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kUnknown: return "UNKNOWN";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

StatusCode ParseStatusCode(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kUnauthenticated); ++c) {
    const auto code = static_cast<StatusCode>(c);
    if (StatusCodeName(code) == name) return code;
  }
  return StatusCode::kUnknown;
}

Status ParseStatusText(std::string_view text) {
  if (text.empty() || text == "OK") return Status::Ok();
  const size_t colon = text.find(": ");
  if (colon != std::string_view::npos) {
    const std::string_view name = text.substr(0, colon);
    const StatusCode code = ParseStatusCode(name);
    if (code != StatusCode::kOk && (code != StatusCode::kUnknown || name == "UNKNOWN")) {
      return Status(code, std::string(text.substr(colon + 2)));
    }
  }
  return Status(StatusCode::kUnknown, std::string(text));
}

std::string ErrorText(const Status& status) {
  return status.ok() ? std::string() : status.ToString();
}

Status::Status(StatusCode code, std::string message) : code_(code) {
  message_ = IsValidUtf8(message) ? std::move(message) : ToValidUtf8(message);
}

std::ostream& operator<<(std::ostream& out, const Status& status) {
  return out << status.ToString();
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(StatusCodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithPrefix(std::string_view prefix) const {
  if (ok()) return *this;
  std::string m(prefix);
  m += ": ";
  m += message_;
  return {code_, std::move(m)};
}

}  // namespace dim::core
