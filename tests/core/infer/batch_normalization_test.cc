#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

// scale [1,2], B [0,1], mean [1,0], var [4,1], epsilon 0:
// channel 0 -> (x - 1) / 2, channel 1 -> 2x + 1.
OnnxModelBuilder BatchNorm(const std::vector<int64_t>& dims) {
  OnnxModelBuilder b;
  b.Input("x", dims).Output("y");
  b.Initializer("scale", {2}, {1, 2});
  b.Initializer("B", {2}, {0, 1});
  b.Initializer("mean", {2}, {1, 0});
  b.Initializer("var", {2}, {4, 1});
  b.Node("BatchNormalization", {"x", "scale", "B", "mean", "var"}, {"y"}, "bn").Float("epsilon", 0);
  return b;
}

TEST(BatchNormalization, NormalisesFeatureColumns) {
  EXPECT_TRUE(Near(LoadAndRun(BatchNorm({kBatch, 2}), Rows(2, 2, {3, 1, -1, 0})),
                   Rows(2, 2, {1, 3, -1, 1})));
}

TEST(BatchNormalization, NormalisesChannelsWithSpatialDimensions) {
  EXPECT_TRUE(Near(LoadAndRun(BatchNorm({kBatch, 2, 2}), Rows(1, 4, {3, 5, 1, 2})),
                   Rows(1, 4, {1, 2, 3, 5})));
}

TEST(BatchNormalization, UsesEpsilon) {
  OnnxModelBuilder b = BatchNorm({kBatch, 2});
  b.proto().mutable_graph()->mutable_node(0)->mutable_attribute(0)->set_f(5);
  // channel 0: (x - 1) / 3; channel 1: 2x / sqrt(6) + 1.
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(1, 2, {4, 6})), Rows(1, 2, {1, 12 / std::sqrt(6.0f) + 1})));
}

TEST(BatchNormalization, RejectsParametersOfTheWrongLength) {
  OnnxModelBuilder b = BatchNorm({kBatch, 3});
  auto model = b.Load();
  ASSERT_FALSE(model.ok());
  EXPECT_NE(model.status().message().find(
                "node 'bn' (BatchNormalization): shape mismatch: X is [N,3] but 'scale' is [2]"),
            std::string::npos)
      << model.status().message();
}

}  // namespace
}  // namespace dim::core
