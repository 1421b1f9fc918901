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
