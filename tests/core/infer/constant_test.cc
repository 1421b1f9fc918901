#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::FloatTensor;
using testing::Int64Tensor;
using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

TEST(Constant, TensorValueFeedsAnAdd) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Constant", {}, {"c"}).Tensor("value", FloatTensor("", {2}, {10, 20}));
  b.Node("Add", {"x", "c"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 2, {1, 2})), Rows(1, 2, {11, 22})));
}

TEST(Constant, ScalarAndListValues) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Constant", {}, {"s"}).Float("value_float", 3);
  b.Node("Constant", {}, {"v"}).Floats("value_floats", {1, -1});
  b.Node("Mul", {"x", "s"}, {"t"});
  b.Node("Add", {"t", "v"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 2, {1, 2})), Rows(1, 2, {4, 5})));
}

TEST(Constant, ChainsOfConstantsAreFoldedAtLoadTime) {
  // c = (a + b) * a is computed once at load time, then added to x.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Initializer("a", {2}, {2, 3});
  b.Initializer("b", {2}, {1, 1});
  b.Node("Add", {"a", "b"}, {"s"});
  b.Node("Mul", {"s", "a"}, {"c"});
  b.Node("Add", {"x", "c"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 2, {0, 1})), Rows(1, 2, {6, 13})));
}

TEST(Constant, RejectsAnOutputThatDoesNotDependOnTheInput) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("c");
  b.Node("Constant", {}, {"c"}).Tensor("value", FloatTensor("", {1, 2}, {1, 2}));
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("output 'c' is a constant"), std::string::npos)
      << model.status().message();
}

TEST(Cast, ToFloatOfAnInt64ConstantIsConverted) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Constant", {}, {"i"}).Tensor("value", Int64Tensor("", {2}, {3, -4}));
  b.Node("Cast", {"i"}, {"f"}).Int("to", onnx::TensorProto::FLOAT);
  b.Node("Add", {"x", "f"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 2, {0.5f, 0.5f})), Rows(1, 2, {3.5f, -3.5f})));
}

TEST(Cast, ToFloatOfFloatIsTheIdentity) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Cast", {"x"}, {"y"}).Int("to", onnx::TensorProto::FLOAT);
  const Matrix x = Rows(1, 2, {1.25f, -2});
  EXPECT_TRUE(Near(LoadAndRun(b, x), x));
}

TEST(Cast, RejectsOtherTargetTypes) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Cast", {"x"}, {"y"}, "cast").Int("to", onnx::TensorProto::INT32);
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find(
                "node 'cast' (Cast): only casts to float32, int64 and bool are supported"),
            std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace dim::core
