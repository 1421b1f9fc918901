#include "core/security/rate_limiter.h"

#include <gtest/gtest.h>

namespace dim::core {
namespace {

class FakeClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override { return now; }
  std::chrono::system_clock::time_point now{std::chrono::seconds(1000)};
};

TEST(RateLimiter, BurstThenRateAndOneBucketPerCaller) {
  FakeClock clock;
  RateLimiter limiter(clock, /*rate=*/2, /*burst=*/3);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.Take("alice").has_value()) << i;
  auto wait = limiter.Take("alice");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(wait->count(), 500);                  // one token every 0.5 s
  EXPECT_FALSE(limiter.Take("bob").has_value());  // bob has his own bucket
  clock.now += std::chrono::milliseconds(499);
  EXPECT_TRUE(limiter.Take("alice").has_value());
  clock.now += std::chrono::milliseconds(2);
  EXPECT_FALSE(limiter.Take("alice").has_value());
  EXPECT_TRUE(limiter.Take("alice").has_value());
  // Idle for long: the bucket is full again, not fuller.
  clock.now += std::chrono::hours(1);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(limiter.Take("alice").has_value());
  EXPECT_TRUE(limiter.Take("alice").has_value());
}

TEST(RateLimiter, AClockGoingBackDoesNotAddTokens) {
  FakeClock clock;
  RateLimiter limiter(clock, 1, 1);
  EXPECT_FALSE(limiter.Take("a").has_value());
  clock.now -= std::chrono::hours(1);
  EXPECT_TRUE(limiter.Take("a").has_value());
}

}  // namespace
}  // namespace dim::core
