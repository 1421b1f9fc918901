// A token bucket per caller (`--rate-limit N/s`, `--rate-burst B`): each call takes a token;
// tokens come back at `rate` a second, up to `burst`. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace dim::core {

class RateLimiter final {
 public:
  // `rate` > 0 calls a second; `burst` >= 1.
  RateLimiter(const Clock& clock, double rate, double burst);

  // Takes a token from `caller`'s bucket. nullopt: allowed; otherwise refused, with how long
  // until a token is back.
  std::optional<std::chrono::milliseconds> Take(const std::string& caller);

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::system_clock::time_point last{};
  };
  // Buckets kept at most; beyond, full ones (idle callers) are dropped, as a full bucket is
  // what a new caller gets anyway.
  static constexpr size_t kMaxBuckets = 100000;

  const Clock& clock_;
  const double rate_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace dim::core
