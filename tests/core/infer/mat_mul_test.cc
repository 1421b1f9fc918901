#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

TEST(MatMul, MultipliesRowsByConstantMatrix) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Initializer("W", {2, 3}, {1, 0, 2, 0, 1, 3});
  b.Node("MatMul", {"x", "W"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 2, {1, 2, 3, 4})), Rows(2, 3, {1, 2, 8, 3, 4, 18})));
}

TEST(MatMul, StacksLeadingDimensionsOfA) {
  // Each row is a 2x3 matrix [[1,2,3],[4,5,6]] times [[1,0],[0,1],[1,1]] = [[4,5],[10,11]].
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2, 3}).Output("y");
  b.Initializer("W", {3, 2}, {1, 0, 0, 1, 1, 1});
  b.Node("MatMul", {"x", "W"}, {"y"});
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->input_width(), 6);
  EXPECT_EQ((*model)->output_width(), 4);
  EXPECT_TRUE(Near(*(*model)->Run(Rows(2, 6, {1, 2, 3, 4, 5, 6, 0, 0, 0, 1, 1, 1})),
                   Rows(2, 4, {4, 5, 10, 11, 0, 0, 2, 2})));
}

TEST(MatMul, BroadcastsBatchDimensions) {
  // x [N,1,2] times B [3,2,2] -> [N,3,1,2]: x*I, x*swap, x*ones.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 1, 1, 2}).Output("y");
  b.Initializer("B", {3, 2, 2}, {1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1});
  b.Node("MatMul", {"x", "B"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 2, {1, 2, 5, -1})),
                   Rows(2, 6, {1, 2, 2, 1, 3, 3, 5, -1, -1, 5, 4, 4})));
}

TEST(MatMul, OneDimensionalBIsADotProductPerRow) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 3}).Output("y");
  b.Initializer("v", {3}, {1, 10, 100});
  b.Node("MatMul", {"x", "v"}, {"y"});
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->output_width(), 1);
  EXPECT_TRUE(Near(*(*model)->Run(Rows(2, 3, {1, 2, 3, 4, 5, 6})), Rows(2, 1, {321, 654})));
}

TEST(MatMul, OneDimensionalAIsPromotedAndDropped) {
  // [2] x [N,2,3] -> [N,3]: a weighted sum of each row's two 3-vectors.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2, 3}).Output("y");
  b.Initializer("a", {2}, {1, 2});
  b.Node("MatMul", {"a", "x"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 6, {1, 2, 3, 4, 5, 6})), Rows(1, 3, {9, 12, 15})));
}

TEST(MatMul, BothRuntimeOperandsWithBatch) {
  // x [N,2,2] times itself: per-row matrix square.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2, 2}).Output("y");
  b.Node("MatMul", {"x", "x"}, {"y"});
  // [[1,2],[3,4]]^2 = [[7,10],[15,22]]; [[0,1],[1,0]]^2 = I.
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 4, {1, 2, 3, 4, 0, 1, 1, 0})),
                   Rows(2, 4, {7, 10, 15, 22, 1, 0, 0, 1})));
}

TEST(MatMul, RejectsInnerDimensionMismatch) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 4}).Output("y");
  b.Initializer("W", {3, 8}, std::vector<float>(24, 1.0f));
  b.Node("MatMul", {"x", "W"}, {"y"}, "proj");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find(
                "node 'proj' (MatMul): shape mismatch: A is [N,4] but B is [3,8]"),
            std::string::npos)
      << model.status().message();
}

TEST(MatMul, RejectsBatchDimensionsThatDoNotBroadcast) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2, 3, 4}).Output("y");
  b.Initializer("W", {3, 4, 2}, std::vector<float>(24, 1.0f));
  b.Node("MatMul", {"x", "W"}, {"y"}, "proj");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("batch dimensions do not broadcast"), std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace dim::core
