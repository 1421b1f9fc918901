#include "cli/validators.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

#include "core/host_port.h"
#include "core/node/node_client.h"
#include "core/text.h"

namespace dim::cli {
namespace {

constexpr double kMaxSeconds = 365.0 * 24 * 3600;

// The whole of `value` as a double, or an error to show. A number too close to zero for a
// double (1e-400) reads as 0; one too large for it (1e400) is an error.
std::string ParseNumber(const std::string& value, double* out) {
  const char* begin = value.c_str();
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(begin, &end);
  if (end == begin || *end != '\0') return "not a number: '" + core::Snippet(value) + "'";
  if (errno == ERANGE && std::isinf(d)) return "too large a number: " + core::Snippet(value);
  if (!std::isfinite(d)) return "must be a finite number, got " + core::Snippet(value);
  *out = d;
  return {};
}

}  // namespace

CLI::Validator Seconds(bool allow_zero) {
  return CLI::Validator(
      [allow_zero](std::string& value) -> std::string {
        double d = 0;
        if (std::string why = ParseNumber(value, &d); !why.empty()) return why;
        if (d < 0 || (d == 0 && !allow_zero)) {
          return std::string("must be ") + (allow_zero ? ">= 0" : "> 0") + ", got " + value;
        }
        if (d > kMaxSeconds) return "at most a year (31536000 seconds), got " + value;
        return {};
      },
      allow_zero ? "SECONDS>=0" : "SECONDS>0");
}

CLI::Validator FiniteNumber() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        double d = 0;
        return ParseNumber(value, &d);
      },
      "NUMBER");
}

CLI::Validator Name() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (value.empty()) return "must not be empty";
        if (!core::IsValidUtf8(value)) return "not valid UTF-8: '" + core::Snippet(value) + "'";
        return {};
      },
      "NAME");
}

CLI::Validator Utf8Text() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        if (core::IsValidUtf8(value)) return {};
        return "not valid UTF-8: '" + core::Snippet(value) + "'";
      },
      "");
}

CLI::Validator NodeId() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        const core::Status s = core::CheckNodeId(value);
        return s.ok() ? std::string() : s.message();
      },
      "ID");
}

CLI::Validator HostPort(bool allow_port_zero, std::string env) {
  return CLI::Validator(
      [allow_port_zero, env](std::string& value) -> std::string {
        const std::string from = env.empty() ? std::string() : " (given here or in " + env + ")";
        auto parsed = core::ParseHostPort(value, allow_port_zero ? 0 : 1);
        if (!parsed.ok()) return parsed.status().message() + from;
        if (!core::IsValidUtf8(value)) {
          return "not valid UTF-8: '" + core::Snippet(value) + "'" + from;
        }
        return {};
      },
      "HOST:PORT");
}

CLI::Validator ByteSize() {
  const CLI::Validator size = CLI::AsSizeValue(false);
  return CLI::Validator(
      [size](std::string& value) -> std::string {
        const auto first = value.find_first_not_of(" \t");
        if (first != std::string::npos && value[first] == '-') return "must not be negative";
        return size(value);
      },
      size.get_description());
}

}  // namespace dim::cli
