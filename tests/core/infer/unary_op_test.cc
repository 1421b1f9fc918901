#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

OnnxModelBuilder Unary(const std::string& op, int64_t opset = 13) {
  OnnxModelBuilder b(opset);
  b.Input("x", {kBatch, 4}).Output("y");
  b.Node(op, {"x"}, {"y"}, "act");
  return b;
}

TEST(Relu, ZeroesNegatives) {
  EXPECT_TRUE(Near(LoadAndRun(Unary("Relu"), Rows(2, 4, {-1, 0, 2, -0.5f, 3, -3, 0.25f, 7})),
                   Rows(2, 4, {0, 0, 2, 0, 3, 0, 0.25f, 7})));
}

TEST(Sigmoid, IsTheLogisticFunction) {
  // 1 / (1 + e^-x) at 0, 2, -2, 20.
  EXPECT_TRUE(Near(LoadAndRun(Unary("Sigmoid"), Rows(1, 4, {0, 2, -2, 20})),
                   Rows(1, 4, {0.5f, 0.880797078f, 0.119202922f, 1.0f})));
}

TEST(Sigmoid, SaturatesWithoutNaN) {
  const Matrix y = LoadAndRun(Unary("Sigmoid"), Rows(1, 4, {-1000, 1000, -90, 90}));
  EXPECT_TRUE(Near(y, Rows(1, 4, {0, 1, 0, 1})));
}

TEST(Tanh, IsTheHyperbolicTangent) {
  EXPECT_TRUE(Near(LoadAndRun(Unary("Tanh"), Rows(1, 4, {0, 0.5f, -1, 10})),
                   Rows(1, 4, {0, 0.462117157f, -0.761594156f, 1.0f})));
}

TEST(LeakyRelu, DefaultsToSlope0Point01) {
  EXPECT_TRUE(Near(LoadAndRun(Unary("LeakyRelu"), Rows(1, 4, {-100, -1, 0, 5})),
                   Rows(1, 4, {-1, -0.01f, 0, 5})));
}

TEST(LeakyRelu, UsesAlpha) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("LeakyRelu", {"x"}, {"y"}).Float("alpha", 0.2f);
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 2, {-5, 5})), Rows(1, 2, {-1, 5})));
}

TEST(Clip, TakesBoundsFromAttributesBeforeOpset11) {
  OnnxModelBuilder b(9);
  b.Input("x", {kBatch, 4}).Output("y");
  b.Node("Clip", {"x"}, {"y"}).Float("min", -1).Float("max", 2);
  EXPECT_TRUE(
      Near(LoadAndRun(b, Rows(1, 4, {-5, -0.5f, 1.5f, 9})), Rows(1, 4, {-1, -0.5f, 1.5f, 2})));
}

TEST(Clip, TakesBoundsFromInputsFromOpset11) {
  OnnxModelBuilder b(13);
  b.Input("x", {kBatch, 4}).Output("y");
  b.Initializer("lo", {}, {0});
  b.Initializer("hi", {}, {6});
  b.Node("Clip", {"x", "lo", "hi"}, {"y"});  // ReLU6.
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 4, {-5, 3, 6, 9})), Rows(1, 4, {0, 3, 6, 6})));
}

TEST(Clip, MissingBoundIsUnbounded) {
  OnnxModelBuilder b(13);
  b.Input("x", {kBatch, 3}).Output("y");
  b.Initializer("hi", {1}, {1});
  b.Node("Clip", {"x", "", "hi"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 3, {-1e30f, 0.5f, 3})), Rows(1, 3, {-1e30f, 0.5f, 1})));
}

TEST(Clip, RejectsBoundThatIsNotAConstant) {
  OnnxModelBuilder b(13);
  b.Input("x", {kBatch, 3}).Output("y");
  b.Node("Relu", {"x"}, {"r"});
  b.Node("Clip", {"x", "r"}, {"y"}, "clip");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("node 'clip' (Clip): input 'r' must be a constant"),
            std::string::npos)
      << model.status().message();
}

TEST(Clip, RejectsBoundWithSeveralValues) {
  OnnxModelBuilder b(13);
  b.Input("x", {kBatch, 3}).Output("y");
  b.Initializer("lo", {2}, {0, 1});
  b.Node("Clip", {"x", "lo"}, {"y"}, "clip");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("must hold a single value"), std::string::npos);
}

}  // namespace
}  // namespace dim::core
