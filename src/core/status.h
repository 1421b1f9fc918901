// Status and Result: how src/core reports errors. Codes map 1:1 to gRPC status codes so
// src/net converts without a table, and src/cli maps them to exit codes.
#pragma once

#include <cassert>
#include <iosfwd>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace dim::core {

// Same numbering as grpc::StatusCode.
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "INVALID_ARGUMENT" etc., as gRPC spells the code.
std::string_view StatusCodeName(StatusCode code);
// The inverse of StatusCodeName; kUnknown for a name it does not give.
StatusCode ParseStatusCode(std::string_view name);

class [[nodiscard]] Status final {
 public:
  Status() = default;
  // A message that is not valid UTF-8 (it quotes a file's bytes, a file name or a peer's
  // words) is kept with each bad byte read as Latin-1, so every message can be written to
  // JSON, a log or a gRPC status as it is.
  Status(StatusCode code, std::string message);

  static Status Ok() { return {}; }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status FailedPrecondition(std::string m) {
    return {StatusCode::kFailedPrecondition, std::move(m)};
  }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status Cancelled(std::string m) { return {StatusCode::kCancelled, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) {
    return {StatusCode::kDeadlineExceeded, std::move(m)};
  }
  static Status ResourceExhausted(std::string m) {
    return {StatusCode::kResourceExhausted, std::move(m)};
  }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status PermissionDenied(std::string m) {
    return {StatusCode::kPermissionDenied, std::move(m)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: model 'x' not found", or "OK".
  std::string ToString() const;

  bool operator==(const Status&) const = default;
  // ToString(), for logs and test failures.
  friend std::ostream& operator<<(std::ostream& out, const Status& status);

  // The same code with "prefix: " put before the message.
  Status WithPrefix(std::string_view prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// The inverse of Status::ToString: "" and "OK" give OK, "NOT_FOUND: x" gives NOT_FOUND "x";
// text that does not start with a code's name is kept whole as an UNKNOWN message.
Status ParseStatusText(std::string_view text);
// "" for OK, else status.ToString(): an error field that is empty when there is none.
std::string ErrorText(const Status& status);

// A value or the Status that explains why there is none. Holding an OK Status is a bug.
template <typename T>
class [[nodiscard]] Result final {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace dim::core

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define DIM_RETURN_IF_ERROR(expr)             \
  do {                                        \
    ::dim::core::Status dim_status_ = (expr); \
    if (!dim_status_.ok()) return dim_status_; \
  } while (0)

#define DIM_CONCAT_INNER_(a, b) a##b
#define DIM_CONCAT_(a, b) DIM_CONCAT_INNER_(a, b)
// `DIM_ASSIGN_OR_RETURN(auto x, MakeX());` binds the value or returns the error.
#define DIM_ASSIGN_OR_RETURN(lhs, expr)                                  \
  auto DIM_CONCAT_(dim_result_, __LINE__) = (expr);                      \
  if (!DIM_CONCAT_(dim_result_, __LINE__).ok())                          \
    return DIM_CONCAT_(dim_result_, __LINE__).status();                  \
  lhs = std::move(DIM_CONCAT_(dim_result_, __LINE__)).value()
