#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

TEST(Identity, PassesTheInputThrough) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 3}).Output("y");
  b.Node("Identity", {"x"}, {"y"});
  const Matrix x = Rows(2, 3, {1, -2, 3, 4, 5, -6});
  EXPECT_TRUE(Near(LoadAndRun(b, x), x));
}

TEST(Identity, OutputMayBeTheInputItself) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("x");
  const Matrix x = Rows(1, 2, {7, 8});
  EXPECT_TRUE(Near(LoadAndRun(b, x), x));
}

TEST(Dropout, IsTheIdentityAtInference) {
  for (int64_t opset : {9, 11}) {
    SCOPED_TRACE(opset);
    OnnxModelBuilder b(opset);
    b.Input("x", {kBatch, 3}).Output("y");
    b.Node("Dropout", {"x"}, {"d", "mask"}).Float("ratio", 0.5f);
    b.Node("Relu", {"d"}, {"y"});
    EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 3, {1, -2, 3})), Rows(1, 3, {1, 0, 3})));
  }
}

TEST(Dropout, Opset12IgnoresRatioAndTrainingModeInputs) {
  OnnxModelBuilder b(13);
  b.Input("x", {kBatch, 3}).Output("y");
  b.Initializer("ratio", {}, {0.9f});
  onnx::TensorProto* training = b.proto().mutable_graph()->add_initializer();
  training->set_name("training");
  training->set_data_type(onnx::TensorProto::BOOL);
  training->add_int32_data(0);
  b.Node("Dropout", {"x", "ratio", "training"}, {"y"});
  const Matrix x = Rows(2, 3, {1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(Near(LoadAndRun(b, x), x));
}

TEST(Dropout, RejectsItsMaskAsFloatInput) {
  OnnxModelBuilder b(13);
  b.Input("x", {kBatch, 3}).Output("y");
  b.Node("Dropout", {"x"}, {"d", "mask"});
  b.Node("Add", {"d", "mask"}, {"y"}, "use_mask");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("node 'use_mask' (Add): input 'mask' is"),
            std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace dim::core
