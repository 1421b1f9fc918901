#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

TEST(ArgMax, GivesTheClassIndexPerRow) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 3}).OutputWithShape("y", {kBatch, 1}, onnx::TensorProto::INT64);
  b.Node("ArgMax", {"x"}, {"y"}).Int("axis", 1);
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(3, 3, {0.1f, 0.7f, 0.2f, 5, -1, 4, 1, 1, 1})),
                   Rows(3, 1, {1, 0, 0})));
}

TEST(ArgMax, SelectLastIndexBreaksTiesTheOtherWay) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 3}).Output("y");
  b.Node("ArgMax", {"x"}, {"i"}).Int("axis", -1).Int("keepdims", 0).Int("select_last_index", 1);
  b.Node("Cast", {"i"}, {"y"}).Int("to", onnx::TensorProto::FLOAT);
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->output_width(), 1);
  EXPECT_TRUE(Near(*(*model)->Run(Rows(2, 3, {1, 1, 1, 3, 2, 3})), Rows(2, 1, {2, 2})));
}

TEST(ArgMax, RejectsItsIndicesAsFloatInput) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 3}).Output("y");
  b.Node("ArgMax", {"x"}, {"i"}).Int("axis", 1);
  b.Node("Relu", {"i"}, {"y"}, "r");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("node 'r' (Relu): input 'i' is int64"), std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace dim::core
