#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

// softmax([1,2,3]) and log_softmax([1,2,3]).
constexpr float kS1 = 0.0900305732f, kS2 = 0.244728471f, kS3 = 0.665240956f;
constexpr float kL1 = -2.40760596f, kL2 = -1.40760596f, kL3 = -0.40760596f;
// softmax([1,4]) = [e^-3, 1] / (1 + e^-3).
constexpr float kA = 0.0474258732f, kB = 0.952574127f;

OnnxModelBuilder Softmax(int64_t opset, const std::vector<int64_t>& dims, int64_t axis,
                         bool set_axis = true, const std::string& op = "Softmax") {
  OnnxModelBuilder b(opset);
  b.Input("x", dims).Output("y");
  auto node = b.Node(op, {"x"}, {"y"}, "sm");
  if (set_axis) node.Int("axis", axis);
  return b;
}

TEST(Softmax, NormalisesEachRowByDefault) {
  for (int64_t opset : {9, 11, 13, 17}) {
    SCOPED_TRACE(opset);
    EXPECT_TRUE(
        Near(LoadAndRun(Softmax(opset, {kBatch, 3}, 0, false), Rows(2, 3, {1, 2, 3, 0, 0, 0})),
             Rows(2, 3, {kS1, kS2, kS3, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f})));
  }
}

TEST(Softmax, IsStableForLargeValues) {
  EXPECT_TRUE(Near(LoadAndRun(Softmax(13, {kBatch, 3}, -1), Rows(1, 3, {1001, 1002, 1003})),
                   Rows(1, 3, {kS1, kS2, kS3})));
}

TEST(Softmax, Opset13NormalisesOverTheSingleAxis) {
  // x [N,2,3] with axis=1: over pairs (x[0][j], x[1][j]) -> softmax([1,4]) in every column.
  EXPECT_TRUE(Near(LoadAndRun(Softmax(13, {kBatch, 2, 3}, 1), Rows(1, 6, {1, 1, 1, 4, 4, 4})),
                   Rows(1, 6, {kA, kA, kA, kB, kB, kB})));
}

TEST(Softmax, Opset13LastAxisOf3D) {
  EXPECT_TRUE(Near(LoadAndRun(Softmax(13, {kBatch, 2, 3}, -1), Rows(1, 6, {1, 2, 3, 0, 0, 0})),
                   Rows(1, 6, {kS1, kS2, kS3, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f})));
}

TEST(Softmax, BeforeOpset13CoercesTo2DAtTheAxis) {
  // Same input, axis=1, opset 11: one softmax over all six values of the row.
  const float e = 1 / (3 + 3 * std::exp(3.0f));
  const float f = std::exp(3.0f) * e;
  EXPECT_TRUE(Near(LoadAndRun(Softmax(11, {kBatch, 2, 3}, 1), Rows(1, 6, {1, 1, 1, 4, 4, 4})),
                   Rows(1, 6, {e, e, e, f, f, f})));
}

TEST(Softmax, AxisZeroNormalisesOverTheBatch) {
  // Opset 13, x [N,2], axis 0: each column over the batch.
  EXPECT_TRUE(Near(LoadAndRun(Softmax(13, {kBatch, 2}, 0), Rows(2, 2, {1, 0, 4, 0})),
                   Rows(2, 2, {kA, 0.5f, kB, 0.5f})));
}

TEST(Softmax, AxisZeroSpansTheWholeOfALargeBatch) {
  // Rows are not independent here, so the batch must not be run in slices.
  OnnxModelBuilder b = Softmax(13, {kBatch, 1}, 0);
  const Matrix y = LoadAndRun(b, Matrix::Zero(3000, 1));
  ASSERT_EQ(y.rows(), 3000);
  EXPECT_TRUE(Near(y, Matrix::Constant(3000, 1, 1 / 3000.0f)));
}

TEST(Softmax, RejectsAxisOutOfRange) {
  auto model = Softmax(13, {kBatch, 3}, 2).Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find("node 'sm' (Softmax): axis 2 is out of range"),
            std::string::npos)
      << model.status().message();
}

TEST(LogSoftmax, IsTheLogOfSoftmax) {
  for (int64_t opset : {11, 13}) {
    SCOPED_TRACE(opset);
    EXPECT_TRUE(
        Near(LoadAndRun(Softmax(opset, {kBatch, 3}, 1, true, "LogSoftmax"), Rows(1, 3, {1, 2, 3})),
             Rows(1, 3, {kL1, kL2, kL3})));
  }
}

TEST(LogSoftmax, Opset13OverAMiddleAxis) {
  const float la = std::log(kA), lb = std::log(kB);
  EXPECT_TRUE(
      Near(LoadAndRun(Softmax(13, {kBatch, 2, 2}, 1, true, "LogSoftmax"), Rows(1, 4, {1, 4, 4, 1})),
           Rows(1, 4, {la, lb, lb, la})));
}

}  // namespace
}  // namespace dim::core
