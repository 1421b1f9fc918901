#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

TEST(Flatten, DefaultAxisKeepsTheBatch) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2, 3}).Output("y");
  b.Node("Flatten", {"x"}, {"y"});
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->input_width(), 6);
  EXPECT_EQ((*model)->output_width(), 6);
  const Matrix x = Rows(2, 6, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  EXPECT_TRUE(Near(*(*model)->Run(x), x));
}

TEST(Flatten, FlattensBeforeAGemm) {
  // x [N,2,2] -> [N,4] -> times a column of ones: the row sum.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2, 2}).Output("y");
  b.Initializer("W", {4, 1}, {1, 1, 1, 1});
  b.Node("Flatten", {"x"}, {"f"}).Int("axis", 1);
  b.Node("Gemm", {"f", "W"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 4, {1, 2, 3, 4, -1, -1, 0, 0})), Rows(2, 1, {10, -2})));
}

TEST(Flatten, OtherAxesMultiplyTheBatch) {
  // axis=2 gives [2N,3] and axis=0 gives [1,6N]; a Reshape to [-1,6] brings back [N,6].
  for (int64_t axis : {0, 2, -1}) {
    SCOPED_TRACE(axis);
    OnnxModelBuilder b;
    b.Input("x", {kBatch, 2, 3}).Output("y");
    b.Int64Initializer("shape", {2}, {-1, 6});
    b.Node("Flatten", {"x"}, {"f"}).Int("axis", axis);
    b.Node("Reshape", {"f", "shape"}, {"y"});
    const Matrix x = Rows(2, 6, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    EXPECT_TRUE(Near(LoadAndRun(b, x), x));
  }
}

TEST(Flatten, RejectsOutputWithoutBatchFirst) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2, 3}).Output("y");
  b.Node("Flatten", {"x"}, {"y"}).Int("axis", 2);
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("output 'y' has shape [2N,3]"), std::string::npos)
      << model.status().message();
}

TEST(Flatten, RejectsAxisOutOfRange) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Flatten", {"x"}, {"y"}, "flat").Int("axis", 3);
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("node 'flat' (Flatten): axis 3 is out of range"),
            std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace dim::core
