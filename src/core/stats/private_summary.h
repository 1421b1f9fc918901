// Differential privacy for a node's summary: outputs are clipped to [lo, hi] before they are
// summarised, and Laplace noise is added to every figure the summary releases, on the node,
// before the summary leaves it.
#pragma once

#include <memory>
#include <random>

#include "core/matrix.h"
#include "core/stats/summary.h"
#include "core/status.h"

namespace dim::core {

// aggregation.differential_privacy of a collaborative job: {"epsilon": e, "clip": [lo, hi]}.
struct DifferentialPrivacy {
  double epsilon = 0;
  double clip_lo = 0;
  double clip_hi = 0;
};

// INVALID_ARGUMENT unless epsilon is finite and > 0 and lo < hi, both finite
// ("epsilon: must be > 0, got 0", "clip: lo must be < hi, got [1, 0]").
// The smallest epsilon a job may ask for: below it the summaries are nothing but noise, and
// the noise's scale overflows.
inline constexpr double kMinEpsilon = 1e-6;
// Clip bounds are outputs of float models: within float's range.
inline constexpr double kMaxClipMagnitude = 3.4028234663852886e38;

// INVALID_ARGUMENT "epsilon: must be at least 1e-06 ...", "clip: lo must be < hi ...",
// "clip: bounds must be within float's range ..." (the messages name the key only: the
// caller adds where it is).
Status CheckDifferentialPrivacy(const DifferentialPrivacy& dp);

// Draws Laplace(0, scale) noise. Implementations need not be thread-safe.
class LaplaceNoise {
 public:
  virtual ~LaplaceNoise() = default;
  // scale > 0.
  virtual double Sample(double scale) = 0;
};

// Noise from a Mersenne Twister seeded from std::random_device: the node's noise cannot be
// predicted (and so subtracted) by whoever receives the summary. Not thread-safe: one per task.
class RandomLaplaceNoise final : public LaplaceNoise {
 public:
  RandomLaplaceNoise();
  double Sample(double scale) override;

 private:
  std::mt19937_64 engine_;
};

// Clamps every value of `outputs` to [dp.clip_lo, dp.clip_hi], in place.
void ClipOutputs(const DifferentialPrivacy& dp, Matrix& outputs);

// The figures released of a summary of clipped outputs, each with Laplace noise of scale
// sensitivity / epsilon_each. Neighbouring datasets differ in one row's values (the row
// count is public and released as is), and with R = clip_hi - clip_lo and n rows the
// sensitivities are: mean R/n and population variance R^2/n (per column), and 2 for the
// class-count histogram (one row moves from one class to another). The budget is split
// evenly: epsilon_each = epsilon / (2 * columns + 1 if classes are counted), so the whole
// summary is epsilon-differentially private (sequential composition). min and max, whose
// sensitivity is the whole range R, would be mostly noise and halve everyone else's
// budget: they are released as the clip bounds lo and hi, which are public and say nothing
// about the data. Noisy figures are then clamped to their possible ranges (mean to
// [lo, hi]; variance to [0, R^2 / 4]; counts rounded to integers >= 0), which is
// post-processing and costs no privacy. `clipped` must come from outputs passed through ClipOutputs; a summary with no
// rows is returned unchanged.
Summary AddLaplaceNoise(const Summary& clipped, const DifferentialPrivacy& dp, LaplaceNoise& noise);

}  // namespace dim::core
