#include "core/clock.h"

#include <cmath>
#include <cstdio>
#include <ctime>

namespace dim::core {

std::string FormatIso8601(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view text) {
  std::tm tm{};
  int ms = 0;
  char rest[8] = {};
  const std::string copy(text.substr(0, 40));
  const int n = std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%7s", &tm.tm_year, &tm.tm_mon,
                            &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, rest);
  if (n < 6 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60 || ms < 0) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(secs) + std::chrono::milliseconds(n >= 7 ? ms : 0);
}

std::string FormatDuration(double seconds) {
  char buf[48];
  if (!(seconds >= 0)) seconds = 0;
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%.0fms", seconds * 1000);
  } else if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.2fs", seconds);
  } else {
    const auto minutes = static_cast<long>(seconds / 60);
    std::snprintf(buf, sizeof buf, "%ldm%02lds", minutes,
                  static_cast<long>(std::fmod(seconds, 60.0)));
  }
  return buf;
}

}  // namespace dim::core
