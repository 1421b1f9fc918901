#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

OnnxModelBuilder ReshapeModel(const std::vector<int64_t>& dims,
                              const std::vector<int64_t>& target) {
  OnnxModelBuilder b;
  b.Input("x", dims).Output("y");
  b.Int64Initializer("shape", {static_cast<int64_t>(target.size())}, target);
  b.Node("Reshape", {"x", "shape"}, {"y"}, "rs");
  return b;
}

TEST(Reshape, ZeroCopiesTheBatchAndDataIsUnchanged) {
  auto model = ReshapeModel({kBatch, 6}, {0, 2, 3}).Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->output_width(), 6);
  const Matrix x = Rows(2, 6, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  EXPECT_TRUE(Near(*(*model)->Run(x), x));
}

TEST(Reshape, InfersMinusOne) {
  // [N,2,3] -> [N, 6] via [-1, 6], then a Gemm reads it as rows of 6.
  OnnxModelBuilder b = ReshapeModel({kBatch, 2, 3}, {-1, 6});
  b.proto().mutable_graph()->mutable_node(0)->set_output(0, "r");
  b.Initializer("W", {6, 1}, {1, 2, 3, 4, 5, 6});
  b.Node("MatMul", {"r", "W"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 6, {1, 1, 1, 1, 1, 1})), Rows(1, 1, {21})));
}

TEST(Reshape, TakesTheShapeFromAConstantNode) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 4}).Output("y");
  b.Node("Constant", {}, {"shape"}).Ints("value_ints", {0, 2, 2});
  b.Node("Reshape", {"x", "shape"}, {"y"});
  const Matrix x = Rows(1, 4, {4, 3, 2, 1});
  EXPECT_TRUE(Near(LoadAndRun(b, x), x));
}

TEST(Reshape, RejectsCountsThatDoNotDivide) {
  auto model = ReshapeModel({kBatch, 6}, {4, -1}).Load();
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("node 'rs' (Reshape): cannot reshape [N,6] to [4,-1]"),
            std::string::npos)
      << model.status().message();
}

TEST(Reshape, RejectsDifferentElementCount) {
  auto model = ReshapeModel({kBatch, 6}, {0, 5}).Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("element counts differ"), std::string::npos);
}

TEST(Reshape, RejectsTwoMinusOnes) {
  auto model = ReshapeModel({kBatch, 6}, {-1, -1}).Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("more than one -1"), std::string::npos);
}

TEST(Reshape, RejectsShapeComputedAtRunTime) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Relu", {"x"}, {"s"});
  b.Node("Reshape", {"x", "s"}, {"y"}, "rs");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(
      model.status().message().find("node 'rs' (Reshape): shape 's' must be a 1-D int64 constant"),
      std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace dim::core
