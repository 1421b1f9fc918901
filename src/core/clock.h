// Time, behind an interface so tests can control it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace dim::core {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

// ISO 8601 UTC with milliseconds: "2026-11-24T19:12:03.123Z".
std::string FormatIso8601(std::chrono::system_clock::time_point t);

// Reads FormatIso8601's form back ("2026-11-24T19:12:03.123Z"; the milliseconds and the Z
// are optional); nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text);

// "850ms", "2.41s", "3m12s": a duration as people read it.
std::string FormatDuration(double seconds);

}  // namespace dim::core
