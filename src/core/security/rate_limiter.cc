#include "core/security/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace dim::core {

RateLimiter::RateLimiter(const Clock& clock, double rate, double burst)
    : clock_(clock), rate_(rate), burst_(std::max(1.0, burst)) {}

std::optional<std::chrono::milliseconds> RateLimiter::Take(const std::string& caller) {
  const auto now = clock_.Now();
  std::lock_guard lock(mu_);
  auto it = buckets_.find(caller);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kMaxBuckets) {
      std::erase_if(buckets_, [&](const auto& entry) {
        const double idle = std::chrono::duration<double>(now - entry.second.last).count();
        return entry.second.tokens + idle * rate_ >= burst_;
      });
    }
    it = buckets_.emplace(caller, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.last).count());
  b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
  b.last = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait_s = (1.0 - b.tokens) / rate_;
  return std::chrono::milliseconds(std::max<int64_t>(1, std::llround(std::ceil(wait_s * 1000))));
}

}  // namespace dim::core
