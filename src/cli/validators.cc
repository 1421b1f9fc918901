#include "cli/validators.h"

#include <charconv>
#include <cmath>
#include <string>

#include "core/node/node_client.h"
#include "core/text.h"

namespace dim::cli {
namespace {

constexpr double kMaxSeconds = 365.0 * 24 * 3600;

}  // namespace

CLI::Validator Seconds(bool allow_zero) {
  return CLI::Validator(
      [allow_zero](std::string& value) -> std::string {
        double d = 0;
        try {
          size_t used = 0;
          d = std::stod(value, &used);
          if (used != value.size()) return "not a number: '" + core::Snippet(value) + "'";
        } catch (const std::exception&) {
          return "not a number: '" + core::Snippet(value) + "'";
        }
        if (!std::isfinite(d)) return "must be a finite number of seconds, got " + value;
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
        try {
          size_t used = 0;
          const double d = std::stod(value, &used);
          if (used != value.size()) return "not a number: '" + core::Snippet(value) + "'";
          if (!std::isfinite(d)) return "must be a finite number, got " + value;
        } catch (const std::out_of_range&) {
          return "must be a finite number, got " + core::Snippet(value);
        } catch (const std::exception&) {
          return "not a number: '" + core::Snippet(value) + "'";
        }
        return {};
      },
      "NUMBER");
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

CLI::Validator HostPort(bool allow_port_zero) {
  return CLI::Validator(
      [allow_port_zero](std::string& value) -> std::string {
        const auto colon = value.rfind(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
          return "expected HOST:PORT, got '" + core::Snippet(value) + "'";
        }
        const std::string_view port(value.data() + colon + 1, value.size() - colon - 1);
        unsigned n = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
        const unsigned lowest = allow_port_zero ? 0 : 1;
        if (ec != std::errc() || end != port.data() + port.size() || n > 65535 || n < lowest) {
          return "the port must be a number from " + std::to_string(lowest) + " to 65535, got '" +
                 core::Snippet(port) + "'";
        }
        if (!core::IsValidUtf8(value)) return "not valid UTF-8: '" + core::Snippet(value) + "'";
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
