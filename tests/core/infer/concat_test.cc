#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

TEST(Concat, JoinsFeaturesAlongTheLastAxis) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Initializer("two", {}, {2});
  b.Node("Mul", {"x", "two"}, {"d"});
  b.Node("Concat", {"x", "d", "x"}, {"y"}).Int("axis", -1);
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->output_width(), 6);
  EXPECT_TRUE(Near(*(*model)->Run(Rows(2, 2, {1, 2, 3, 4})),
                   Rows(2, 6, {1, 2, 2, 4, 1, 2, 3, 4, 6, 8, 3, 4})));
}

TEST(Concat, JoinsAlongAMiddleAxis) {
  // [N,1,2] and [N,1,2] along axis 1 -> [N,2,2].
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 1, 2}).Output("y");
  b.Initializer("ten", {}, {10});
  b.Node("Add", {"x", "ten"}, {"p"});
  b.Node("Concat", {"x", "p"}, {"y"}).Int("axis", 1);
  EXPECT_TRUE(
      Near(LoadAndRun(b, Rows(2, 2, {1, 2, 3, 4})), Rows(2, 4, {1, 2, 11, 12, 3, 4, 13, 14})));
}

TEST(Concat, RejectsMismatchedShapes) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Initializer("c", {1, 3}, {1, 2, 3});
  b.Node("Concat", {"x", "c"}, {"y"}, "cat").Int("axis", 1);
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find(
                "node 'cat' (Concat): shape mismatch: 'x' is [N,2] but 'c' is [1,3]"),
            std::string::npos)
      << model.status().message();
}

TEST(Concat, RejectsMissingAxis) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Concat", {"x", "x"}, {"y"}, "cat");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("attribute 'axis' is required"), std::string::npos);
}

}  // namespace
}  // namespace dim::core
