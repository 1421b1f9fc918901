#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

// B = [[1,0,2],[0,1,3]]: X*B for X = [[1,2],[3,4]] is [[1,2,8],[3,4,18]].
OnnxModelBuilder GemmModel() {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Initializer("B", {2, 3}, {1, 0, 2, 0, 1, 3});
  return b;
}

TEST(Gemm, MultipliesAndAddsBiasBroadcastOverRows) {
  OnnxModelBuilder b = GemmModel();
  b.Initializer("C", {3}, {0.5f, -1, 1});
  b.Node("Gemm", {"x", "B", "C"}, {"y"}, "fc");
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 2, {1, 2, 3, 4})), Rows(2, 3, {1.5f, 1, 9, 3.5f, 3, 19})));
}

TEST(Gemm, WithoutCIsAPlainProduct) {
  OnnxModelBuilder b = GemmModel();
  b.Node("Gemm", {"x", "B"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 2, {1, 2, 3, 4})), Rows(2, 3, {1, 2, 8, 3, 4, 18})));
}

TEST(Gemm, TransBIsHowTorchExportsLinear) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.RawInitializer("W", {3, 2}, {1, 2, 3, 4, 5, 6});  // nn.Linear(2, 3).weight
  b.RawInitializer("bias", {3}, {1, 1, 1});
  b.Node("Gemm", {"x", "W", "bias"}, {"y"}).Int("transB", 1).Float("alpha", 1).Float("beta", 1);
  // x W^T = [[3,7,11],[2,6,10]], plus 1.
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 2, {1, 1, 2, 0})), Rows(2, 3, {4, 8, 12, 3, 7, 11})));
}

TEST(Gemm, AlphaAndBetaScaleProductAndRowC) {
  OnnxModelBuilder b = GemmModel();
  b.Initializer("C", {1, 3}, {2, 4, 6});
  b.Node("Gemm", {"x", "B", "C"}, {"y"}).Float("alpha", 2).Float("beta", 0.5f);
  // 2 * [[1,2,8],[3,4,18]] + [1,2,3].
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 2, {1, 2, 3, 4})), Rows(2, 3, {3, 6, 19, 7, 10, 39})));
}

TEST(Gemm, ScalarCIsAddedEverywhere) {
  OnnxModelBuilder b = GemmModel();
  b.Initializer("C", {}, {10});
  b.Node("Gemm", {"x", "B", "C"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 2, {1, 2})), Rows(1, 3, {11, 12, 18})));
}

TEST(Gemm, BetaZeroIgnoresC) {
  OnnxModelBuilder b = GemmModel();
  b.Initializer("C", {3}, {100, 100, 100});
  b.Node("Gemm", {"x", "B", "C"}, {"y"}).Float("beta", 0);
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 2, {1, 2})), Rows(1, 3, {1, 2, 8})));
}

TEST(Gemm, TransAOnConstantsIsFoldedAtLoadTime) {
  // A^T * B with A = [[1,2],[3,4]] (so A^T = [[1,3],[2,4]]) and B = I: [[1,3],[2,4]],
  // flattened to one row and added to the input.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 4}).Output("y");
  b.Initializer("A", {2, 2}, {1, 2, 3, 4});
  b.Initializer("I", {2, 2}, {1, 0, 0, 1});
  b.Int64Initializer("shape", {2}, {1, 4});
  b.Node("Gemm", {"A", "I"}, {"at"}).Int("transA", 1);
  b.Node("Reshape", {"at", "shape"}, {"row"});
  b.Node("Add", {"x", "row"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 4, {0, 0, 0, 0, 1, 1, 1, 1})),
                   Rows(2, 4, {1, 3, 2, 4, 2, 4, 3, 5})));
}

TEST(Gemm, TransAAndTransBTogether) {
  // (A^T)(B^T) with A = [[1,2],[3,4]], B = [[0,1],[1,0]]: A^T = [[1,3],[2,4]], B^T = B,
  // product [[3,1],[4,2]].
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 4}).Output("y");
  b.Initializer("A", {2, 2}, {1, 2, 3, 4});
  b.Initializer("B", {2, 2}, {0, 1, 1, 0});
  b.Int64Initializer("shape", {2}, {1, 4});
  b.Node("Gemm", {"A", "B"}, {"p"}).Int("transA", 1).Int("transB", 1);
  b.Node("Reshape", {"p", "shape"}, {"row"});
  b.Node("Add", {"x", "row"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 4, {0, 0, 0, 0})), Rows(1, 4, {3, 1, 4, 2})));
}

TEST(Gemm, RejectsInnerDimensionMismatchNamingNodeAndShapes) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 4}).Output("y");
  b.Initializer("W", {3, 8}, std::vector<float>(24, 1.0f));
  b.Node("Gemm", {"x", "W"}, {"y"}, "fc1");
  auto model = b.Load("m");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(model.status().message(),
            "model 'm': node 'fc1' (Gemm): shape mismatch: A is [N,4] but B is [3,8]");
}

TEST(Gemm, RejectsCThatDoesNotBroadcast) {
  OnnxModelBuilder b = GemmModel();
  b.Initializer("C", {4}, {1, 2, 3, 4});
  b.Node("Gemm", {"x", "B", "C"}, {"y"}, "fc");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("node 'fc' (Gemm): shape mismatch: C is [4]"),
            std::string::npos)
      << model.status().message();
}

TEST(Gemm, RejectsNon2DOperand) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2, 2}).Output("y");
  b.Initializer("B", {2, 3}, std::vector<float>(6, 1.0f));
  b.Node("Gemm", {"x", "B"}, {"y"}, "fc");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("node 'fc' (Gemm): A must be 2-D, got [N,2,2]"),
            std::string::npos)
      << model.status().message();
}

TEST(Gemm, RejectsAttributeOfTheWrongType) {
  OnnxModelBuilder b = GemmModel();
  b.Node("Gemm", {"x", "B"}, {"y"}, "fc").Int("alpha", 2);
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("node 'fc' (Gemm): attribute 'alpha' must be a float"),
            std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace dim::core
