#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

// y = op(lhs, rhs) over an input x of `dims` and an initializer c of `c_dims`.
OnnxModelBuilder Binary(const std::string& op, const std::vector<int64_t>& dims,
                        const std::vector<int64_t>& c_dims, const std::vector<float>& c,
                        bool constant_first = false) {
  OnnxModelBuilder b;
  b.Input("x", dims).Output("y");
  b.Initializer("c", c_dims, c);
  if (constant_first) {
    b.Node(op, {"c", "x"}, {"y"}, "op");
  } else {
    b.Node(op, {"x", "c"}, {"y"}, "op");
  }
  return b;
}

TEST(Add, BroadcastsARowOverTheBatch) {
  EXPECT_TRUE(Near(
      LoadAndRun(Binary("Add", {kBatch, 3}, {3}, {10, 20, 30}), Rows(2, 3, {1, 2, 3, 4, 5, 6})),
      Rows(2, 3, {11, 22, 33, 14, 25, 36})));
}

TEST(Add, BroadcastsAColumnInsideEachRow) {
  // x [N,2,3] + c [2,1]: +10 on the first three values of a row, +20 on the last three.
  EXPECT_TRUE(Near(
      LoadAndRun(Binary("Add", {kBatch, 2, 3}, {2, 1}, {10, 20}), Rows(1, 6, {1, 2, 3, 4, 5, 6})),
      Rows(1, 6, {11, 12, 13, 24, 25, 26})));
}

TEST(Add, BroadcastsAScalar) {
  EXPECT_TRUE(Near(LoadAndRun(Binary("Add", {kBatch, 2}, {}, {0.5f}), Rows(2, 2, {1, 2, 3, 4})),
                   Rows(2, 2, {1.5f, 2.5f, 3.5f, 4.5f})));
}

TEST(Add, BroadcastsBothOperands) {
  // x [N,1,3] + c [2,1] -> [N,2,3].
  EXPECT_TRUE(Near(
      LoadAndRun(Binary("Add", {kBatch, 1, 3}, {2, 1}, {100, 200}), Rows(2, 3, {1, 2, 3, 4, 5, 6})),
      Rows(2, 6, {101, 102, 103, 201, 202, 203, 104, 105, 106, 204, 205, 206})));
}

TEST(Add, SameShapeRuntimeOperands) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 3}).Output("y");
  b.Node("Add", {"x", "x"}, {"y"});
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 3, {1, -2, 3})), Rows(1, 3, {2, -4, 6})));
}

TEST(Add, KeepsAnInputThatIsReadAgainIntact) {
  // t = x + 1 is read by two nodes; the first must not overwrite it in place.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Initializer("one", {1}, {1});
  b.Node("Add", {"x", "one"}, {"t"});
  b.Node("Relu", {"t"}, {"r"});
  b.Node("Mul", {"t", "r"}, {"y"});
  // t = [-1, 3]; r = [0, 3]; y = [0, 9].
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 2, {-2, 2})), Rows(1, 2, {0, 9})));
}

TEST(Sub, ConstantMinusInputBroadcastsTheLeftOperand) {
  EXPECT_TRUE(Near(LoadAndRun(Binary("Sub", {kBatch, 3}, {3}, {10, 20, 30}, true),
                              Rows(2, 3, {1, 2, 3, 4, 5, 6})),
                   Rows(2, 3, {9, 18, 27, 6, 15, 24})));
}

TEST(Sub, InputMinusRow) {
  EXPECT_TRUE(Near(LoadAndRun(Binary("Sub", {kBatch, 2}, {2}, {1, 2}), Rows(1, 2, {5, 5})),
                   Rows(1, 2, {4, 3})));
}

TEST(Mul, ScalesEachColumn) {
  EXPECT_TRUE(Near(
      LoadAndRun(Binary("Mul", {kBatch, 3}, {1, 3}, {2, -1, 0.5f}), Rows(2, 3, {1, 2, 3, 4, 5, 6})),
      Rows(2, 3, {2, -2, 1.5f, 8, -5, 3})));
}

TEST(Div, DividesByRowAndIntoConstant) {
  EXPECT_TRUE(Near(LoadAndRun(Binary("Div", {kBatch, 2}, {2}, {2, 4}), Rows(1, 2, {1, 2})),
                   Rows(1, 2, {0.5f, 0.5f})));
  EXPECT_TRUE(Near(LoadAndRun(Binary("Div", {kBatch, 2}, {}, {12}, true), Rows(1, 2, {3, 4})),
                   Rows(1, 2, {4, 3})));
}

TEST(Add, RejectsShapesThatDoNotBroadcast) {
  auto model = Binary("Add", {kBatch, 3}, {4}, {1, 2, 3, 4}).Load();
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find(
                "node 'op' (Add): shape mismatch: shapes [N,3] and [4] cannot be broadcast"),
            std::string::npos)
      << model.status().message();
}

TEST(Add, RejectsBroadcastingTheBatchAgainstAFixedSize) {
  // [N,3] + [2,3] would only work for a batch of 2.
  auto model = Binary("Add", {kBatch, 3}, {2, 3}, {1, 2, 3, 4, 5, 6}).Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("shape mismatch"), std::string::npos);
}

TEST(Add, RejectsInt64Operand) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Int64Initializer("c", {2}, {1, 2});
  b.Node("Add", {"x", "c"}, {"y"}, "op");
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find(
                "node 'op' (Add): input 'c' is int64; only float32 is supported"),
            std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace dim::core
