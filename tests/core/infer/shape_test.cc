#include "core/infer/shape.h"

#include <gtest/gtest.h>

namespace dim::core {
namespace {

const Dim kN = Dim::Batch();
Dim K(int64_t n) { return Dim::Known(n); }

TEST(Shape, PrintsTheBatchAsN) {
  EXPECT_EQ(ShapeToString({kN, K(4)}), "[N,4]");
  EXPECT_EQ(ShapeToString({Dim{3, 1}}), "[3N]");
  EXPECT_EQ(ShapeToString({}), "[]");
}

TEST(Shape, BroadcastsLikeNumpy) {
  EXPECT_EQ(*BroadcastShapes({kN, K(3)}, {K(3)}), (Shape{kN, K(3)}));
  EXPECT_EQ(*BroadcastShapes({kN, K(1), K(3)}, {K(2), K(1)}), (Shape{kN, K(2), K(3)}));
  EXPECT_EQ(*BroadcastShapes({K(1)}, {kN, K(1)}), (Shape{kN, K(1)}));
  EXPECT_FALSE(BroadcastShapes({kN, K(3)}, {K(4)}).ok());
  // The batch size is unknown, so it only broadcasts against 1.
  EXPECT_FALSE(BroadcastShapes({kN, K(3)}, {K(2), K(3)}).ok());
}

TEST(Shape, UnidirectionalBroadcast) {
  EXPECT_TRUE(BroadcastsTo({K(3)}, {kN, K(3)}));
  EXPECT_TRUE(BroadcastsTo({K(1), K(3)}, {kN, K(3)}));
  EXPECT_TRUE(BroadcastsTo({}, {kN, K(3)}));
  EXPECT_FALSE(BroadcastsTo({K(4)}, {kN, K(3)}));
  EXPECT_FALSE(BroadcastsTo({kN, K(3)}, {K(3)}));
}

TEST(Shape, ProductsTrackTheBatch) {
  EXPECT_EQ(*DimProduct({kN, K(2), K(3)}, 0, 3), (Dim{6, 1}));
  EXPECT_EQ(*DimProduct({kN, K(2), K(3)}, 1, 3), K(6));
  EXPECT_EQ(*DimProduct({kN, K(2)}, 0, 0), K(1));
  EXPECT_FALSE(DimProduct({kN, kN}, 0, 2).ok());  // N^2
  EXPECT_FALSE(DimProduct({K(kMaxDimension), K(2)}, 0, 2).ok());
}

TEST(Shape, ExactQuotients) {
  EXPECT_EQ(*DimQuotient(Dim{6, 1}, K(6)), kN);
  EXPECT_EQ(*DimQuotient(Dim{6, 1}, kN), K(6));
  EXPECT_FALSE(DimQuotient(Dim{6, 1}, K(4)).has_value());
  EXPECT_FALSE(DimQuotient(K(6), kN).has_value());
  EXPECT_FALSE(DimQuotient(K(6), K(0)).has_value());
}

TEST(Shape, ResolvesForABatch) {
  EXPECT_EQ(ResolveShape({kN, K(4), Dim{2, 1}}, 5), (std::vector<int64_t>{5, 4, 10}));
}

TEST(Shape, NormalizesAxes) {
  EXPECT_EQ(*NormalizeAxis(-1, 3), 2);
  EXPECT_EQ(*NormalizeAxis(3, 3, true), 3);
  EXPECT_FALSE(NormalizeAxis(3, 3).ok());
  EXPECT_FALSE(NormalizeAxis(-4, 3).ok());
}

}  // namespace
}  // namespace dim::core
