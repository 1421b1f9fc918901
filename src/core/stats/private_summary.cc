#include "core/stats/private_summary.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

namespace dim::core {
namespace {

std::string Number(double v) { return nlohmann::json(v).dump(); }

}  // namespace

Status CheckDifferentialPrivacy(const DifferentialPrivacy& dp) {
  if (!std::isfinite(dp.epsilon) || dp.epsilon <= 0) {
    return Status::InvalidArgument("epsilon: must be > 0, got " + Number(dp.epsilon));
  }
  if (dp.epsilon < kMinEpsilon) {
    return Status::InvalidArgument("epsilon: must be at least " + Number(kMinEpsilon) +
                                   " (a smaller one leaves nothing but noise), got " +
                                   Number(dp.epsilon));
  }
  if (!std::isfinite(dp.clip_lo) || !std::isfinite(dp.clip_hi) || dp.clip_lo >= dp.clip_hi) {
    return Status::InvalidArgument("clip: lo must be < hi, got [" + Number(dp.clip_lo) + ", " +
                                   Number(dp.clip_hi) + "]");
  }
  if (std::abs(dp.clip_lo) > kMaxClipMagnitude || std::abs(dp.clip_hi) > kMaxClipMagnitude) {
    return Status::InvalidArgument("clip: bounds must be within float's range (about 3.4e38), got [" +
                                   Number(dp.clip_lo) + ", " + Number(dp.clip_hi) + "]");
  }
  return Status::Ok();
}

RandomLaplaceNoise::RandomLaplaceNoise() {
  // One 32-bit word would leave only 2^32 possible noise streams: seed the whole state.
  std::random_device device;
  std::array<std::random_device::result_type, 8> words;
  std::generate(words.begin(), words.end(), std::ref(device));
  std::seed_seq seed(words.begin(), words.end());
  engine_.seed(seed);
}

double RandomLaplaceNoise::Sample(double scale) {
  // The difference of two exponentials of mean `scale` is Laplace(0, scale).
  std::exponential_distribution<double> exponential(1.0 / scale);
  return exponential(engine_) - exponential(engine_);
}

void ClipOutputs(const DifferentialPrivacy& dp, Matrix& outputs) {
  outputs =
      outputs.cwiseMax(static_cast<float>(dp.clip_lo)).cwiseMin(static_cast<float>(dp.clip_hi));
}

Summary AddLaplaceNoise(const Summary& clipped, const DifferentialPrivacy& dp,
                        LaplaceNoise& noise) {
  Summary out = clipped;
  if (clipped.rows <= 0) return out;
  const double range = dp.clip_hi - dp.clip_lo;
  const double n = static_cast<double>(clipped.rows);
  const size_t figures = 2 * clipped.columns.size() + (clipped.class_counts.empty() ? 0 : 1);
  const double epsilon_each = dp.epsilon / static_cast<double>(figures);
  auto clamp = [&](double v) { return std::clamp(v, dp.clip_lo, dp.clip_hi); };
  for (ColumnSummary& c : out.columns) {
    c.mean = clamp(c.mean + noise.Sample(range / n / epsilon_each));
    c.variance = std::clamp(c.variance + noise.Sample(range * range / n / epsilon_each), 0.0,
                            range * range / 4);
    c.min = dp.clip_lo;
    c.max = dp.clip_hi;
  }
  // A noisy count is kept within [0, rows] (rows leave the node as they are): whatever the
  // noise, it converts to an integer.
  const double most = static_cast<double>(clipped.rows);
  for (int64_t& count : out.class_counts) {
    const double noisy = std::round(static_cast<double>(count) + noise.Sample(2.0 / epsilon_each));
    count = static_cast<int64_t>(noisy >= 0 ? std::min(noisy, most) : 0.0);
  }
  return out;
}

}  // namespace dim::core
