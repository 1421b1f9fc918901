// PackedMatrix, the dense-layer product: equal to a plain triple loop for every shape the
// blocking has edges at (rows not a multiple of the kernel's, columns not a multiple of a
// panel, k = 0), with B given row-major or transposed, scaled, with and without a bias.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/infer/ops/packed_gemm.h"

namespace dim::core {
namespace {

TEST(PackedMatrix, MatchesAPlainProductAtEveryEdge) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (int64_t m : {1, 5, 6, 12, 13, 37}) {
    for (int64_t k : {0, 1, 7, 64}) {
      for (int64_t n : {1, 3, 16, 31, 32, 33, 70}) {
        for (bool transposed : {false, true}) {
          for (bool with_bias : {false, true}) {
            SCOPED_TRACE(::testing::Message() << "m=" << m << " k=" << k << " n=" << n
                                              << " transposed=" << transposed
                                              << " bias=" << with_bias);
            std::vector<float> x(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n));
            std::vector<float> bias(with_bias ? static_cast<size_t>(n) : 0);
            for (float& v : x) v = value(rng);
            for (float& v : b) v = value(rng);
            for (float& v : bias) v = value(rng);
            // Stored as B (k x n) or as B^T (n x k).
            const int64_t row_stride = transposed ? 1 : n;
            const int64_t col_stride = transposed ? k : 1;
            const PackedMatrix packed(b.data(), k, n, row_stride, col_stride, 0.5f, bias);
            std::vector<float> y(static_cast<size_t>(m * (n + 2)), -7.0f);
            packed.Multiply(x.data(), m, k, y.data(), n + 2);  // ldy > n: padding untouched
            for (int64_t i = 0; i < m; ++i) {
              for (int64_t j = 0; j < n; ++j) {
                double want = with_bias ? bias[static_cast<size_t>(j)] : 0.0;
                for (int64_t r = 0; r < k; ++r) {
                  want += 0.5 * x[static_cast<size_t>(i * k + r)] *
                          b[static_cast<size_t>(r * row_stride + j * col_stride)];
                }
                ASSERT_NEAR(y[static_cast<size_t>(i * (n + 2) + j)], want, 1e-5)
                    << "at " << i << "," << j;
              }
              EXPECT_EQ(y[static_cast<size_t>(i * (n + 2) + n)], -7.0f);
              EXPECT_EQ(y[static_cast<size_t>(i * (n + 2) + n + 1)], -7.0f);
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace dim::core
