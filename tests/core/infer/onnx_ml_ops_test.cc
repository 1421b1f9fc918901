// The ai.onnx.ml operators and the default-domain operators converted models use: a
// classifier's labels beside its probabilities, and every bad attribute or input refused
// at load time with a message naming the node and what is wrong. Their numbers are checked
// against scikit-learn, XGBoost and ONNX Runtime on the fixtures (ml_fixtures_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "tests/core/infer/onnx_test_model.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

using ::testing::HasSubstr;
using testing::kBatch;
using testing::NodeBuilder;
using testing::OnnxModelBuilder;

constexpr const char* kMl = "ai.onnx.ml";

// One depth-1 tree over 2 features: x0 <= 0.5 goes to leaf 1, else leaf 2.
NodeBuilder Stump(OnnxModelBuilder& b, const std::string& op,
                  const std::vector<std::string>& outs) {
  NodeBuilder n = b.Node(op, {"x"}, outs, "t").Domain(kMl);
  n.Ints("nodes_treeids", {0, 0, 0})
      .Ints("nodes_nodeids", {0, 1, 2})
      .Ints("nodes_featureids", {0, 0, 0})
      .Strings("nodes_modes", {"BRANCH_LEQ", "LEAF", "LEAF"})
      .Floats("nodes_values", {0.5f, 0, 0})
      .Ints("nodes_truenodeids", {1, 0, 0})
      .Ints("nodes_falsenodeids", {2, 0, 0});
  return n;
}

OnnxModelBuilder StumpClassifier(const std::function<void(NodeBuilder&)>& edit = {}) {
  OnnxModelBuilder b;
  b.ImportOnnxMl().Input("x", {kBatch, 2});
  NodeBuilder n = Stump(b, "TreeEnsembleClassifier", {"label", "probabilities"});
  n.Ints("class_treeids", {0, 0, 0, 0, 0})
      .Ints("class_nodeids", {1, 1, 2, 2, 2})
      .Ints("class_ids", {0, 1, 0, 1, 2})
      .Floats("class_weights", {0.8f, 0.2f, 0.1f, 0.6f, 0.3f})
      .Ints("classlabels_int64s", {3, 7, 5});
  if (edit) edit(n);
  b.OutputWithShape("label", {kBatch}, onnx::TensorProto::INT64);
  b.Output("probabilities");
  return b;
}

OnnxModelBuilder StumpRegressor(const std::function<void(NodeBuilder&)>& edit) {
  OnnxModelBuilder b;
  b.ImportOnnxMl().Input("x", {kBatch, 2});
  NodeBuilder n = Stump(b, "TreeEnsembleRegressor", {"y"});
  n.Ints("target_treeids", {0, 0})
      .Ints("target_nodeids", {1, 2})
      .Ints("target_ids", {0, 0})
      .Floats("target_weights", {1.5f, -2.0f});
  if (edit) edit(n);
  b.Output("y");
  return b;
}

void ExpectRejected(const OnnxModelBuilder& b, const std::string& expected) {
  auto model = b.Load();
  ASSERT_FALSE(model.ok()) << "loaded, expected: " << expected;
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr(expected));
}

TEST(TreeEnsembleClassifier, GivesProbabilitiesAsTheOutputAndLabelsBesideThem) {
  auto model = StumpClassifier().Load();
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_TRUE((*model)->has_labels());
  EXPECT_EQ((*model)->output_width(), 3);
  std::vector<int64_t> labels;
  auto out = (*model)->Run(testing::Rows(3, 2, {0.0f, 9.0f, 1.0f, 9.0f, 0.5f, 0.0f}), &labels);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_THAT(labels, ::testing::ElementsAre(3, 7, 3));
  EXPECT_FLOAT_EQ((*out)(0, 0), 0.8f);
  EXPECT_FLOAT_EQ((*out)(1, 1), 0.6f);
  EXPECT_FLOAT_EQ((*out)(1, 2), 0.3f);
  EXPECT_FLOAT_EQ((*out)(2, 0), 0.8f);
  // Without asking for labels, the same probabilities.
  auto plain = (*model)->Run(testing::Rows(1, 2, {1.0f, 0.0f}));
  ASSERT_TRUE(plain.ok());
  EXPECT_FLOAT_EQ((*plain)(0, 1), 0.6f);
}

TEST(TreeEnsembleClassifier, WithStringLabelsGivesProbabilitiesAndCountsFromThem) {
  OnnxModelBuilder b = StumpClassifier([](NodeBuilder& n) {
    n.proto().mutable_attribute()->RemoveLast();  // classlabels_int64s
    n.Strings("classlabels_strings", {"low", "mid", "high"});
  });
  b.OutputType(0).set_elem_type(onnx::TensorProto::STRING);
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_FALSE((*model)->has_labels());
  EXPECT_EQ((*model)->output_width(), 3);
  auto out = (*model)->Run(testing::Rows(1, 2, {1.0f, 0.0f}));
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ((*out)(0, 1), 0.6f);
}

TEST(TreeEnsembleClassifier, ZipMapIsReadAsTheProbabilityTensor) {
  OnnxModelBuilder b = StumpClassifier();
  b.proto().mutable_graph()->mutable_output(1)->set_name("zipped");
  b.Node("ZipMap", {"probabilities"}, {"zipped"}, "zip")
      .Domain(kMl)
      .Ints("classlabels_int64s", {3, 7, 5});
  // Declared as the sequence of maps it is.
  onnx::TypeProto* type = b.proto().mutable_graph()->mutable_output(1)->mutable_type();
  type->Clear();
  type->mutable_sequence_type()->mutable_elem_type()->mutable_map_type()->set_key_type(
      onnx::TensorProto::INT64);
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto out = (*model)->Run(testing::Rows(1, 2, {1.0f, 0.0f}));
  ASSERT_TRUE(out.ok());
  EXPECT_FLOAT_EQ((*out)(0, 0), 0.1f);
}

TEST(TreeEnsemble, RejectsBadAttributesNamingNodeAndAttribute) {
  struct Case {
    const char* what;
    std::function<void(NodeBuilder&)> edit;
    const char* message;
  };
  const Case cases[] = {
      {"mode", [](NodeBuilder& n) { n.proto().mutable_attribute(3)->set_strings(0, "BRANCH_XX"); },
       "node 't' (TreeEnsembleRegressor): attribute 'nodes_modes' holds 'BRANCH_XX'"},
      {"lengths", [](NodeBuilder& n) { n.proto().mutable_attribute(4)->add_floats(1); },
       "attribute 'nodes_values' has 4 values, 'nodes_treeids' 3"},
      {"missing child", [](NodeBuilder& n) { n.proto().mutable_attribute(5)->set_ints(0, 9); },
       "node 0 of tree 0: its true child 9 does not exist"},
      {"shared child", [](NodeBuilder& n) { n.proto().mutable_attribute(6)->set_ints(0, 1); },
       "is itself or another node's child (not a tree)"},
      {"feature", [](NodeBuilder& n) { n.proto().mutable_attribute(2)->set_ints(0, 5); },
       "a node reads feature 5 of input 'x', which has 2"},
      {"target", [](NodeBuilder& n) { n.proto().mutable_attribute(9)->set_ints(1, 3); },
       "a weight names target 3; there are 1"},
      {"weight node", [](NodeBuilder& n) { n.proto().mutable_attribute(8)->set_ints(1, 7); },
       "a weight names node 7 of tree 0, which does not exist"},
      {"aggregate", [](NodeBuilder& n) { n.String("aggregate_function", "MEDIAN"); },
       "attribute 'aggregate_function' is 'MEDIAN'"},
      {"transform", [](NodeBuilder& n) { n.String("post_transform", "TANH"); },
       "attribute 'post_transform' is 'TANH'"},
      {"base values",
       [](NodeBuilder& n) {
         n.Int("n_targets", 3).Floats("base_values", {1, 2});
       },
       "attribute 'base_values' has 2 values; there are 3 scores"},
      {"as tensor",
       [](NodeBuilder& n) {
         n.Tensor("nodes_values_as_tensor", testing::FloatTensor("v", {1}, {1}));
       },
       "attribute 'nodes_values_as_tensor' is not supported"},
      {"n_targets", [](NodeBuilder& n) { n.Int("n_targets", 0); }, "attribute 'n_targets' is 0"},
      {"wrong type", [](NodeBuilder& n) { n.Int("post_transform", 1); },
       "attribute 'post_transform' must be a string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    ExpectRejected(StumpRegressor(c.edit), c.message);
  }
}

TEST(TreeEnsembleClassifier, RejectsBadLabels) {
  ExpectRejected(StumpClassifier([](NodeBuilder& n) {
                   n.Strings("classlabels_strings", {"a", "b"});
                 }),
                 "exactly one of the attributes 'classlabels_int64s' and 'classlabels_strings'");
  ExpectRejected(
      StumpClassifier([](NodeBuilder& n) { n.proto().mutable_attribute(11)->set_ints(1, 3); }),
      "a class label is repeated");
  ExpectRejected(StumpClassifier([](NodeBuilder& n) {
                   n.proto().mutable_attribute(11)->set_ints(1, int64_t{1} << 40);
                 }),
                 "is beyond 2^24");
  std::vector<int64_t> many(20000);
  for (size_t i = 0; i < many.size(); ++i) many[i] = static_cast<int64_t>(i);
  ExpectRejected(StumpClassifier([&many](NodeBuilder& n) {
                   n.proto().mutable_attribute()->RemoveLast();
                   n.Ints("classlabels_int64s", many);
                 }),
                 "20000 class labels; at most 16384 are supported");
}

TEST(TreeEnsemble, RejectsACycle) {
  // Node 1 points back at node 0 (which then has a parent): no root is left.
  ExpectRejected(StumpRegressor([](NodeBuilder& n) {
                   n.proto().mutable_attribute(3)->set_strings(1, "BRANCH_LEQ");
                   n.proto().mutable_attribute(5)->set_ints(1, 0);
                   n.proto().mutable_attribute(6)->set_ints(1, 2);
                 }),
                 "");
}

TEST(TreeEnsemble, NeedsTheMlOpsetImported) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2});
  Stump(b, "TreeEnsembleRegressor", {"y"});
  b.Output("y");
  ExpectRejected(b, "the model imports no opset for the domain 'ai.onnx.ml'");
}

TEST(OnnxMlOps, RejectBadAttributesAndInputs) {
  const auto one = [](const std::string& op, const std::function<void(NodeBuilder&)>& edit,
                      const std::vector<std::string>& extra_inputs = {}) {
    OnnxModelBuilder b;
    b.ImportOnnxMl().Input("x", {kBatch, 3});
    std::vector<std::string> inputs = {"x"};
    inputs.insert(inputs.end(), extra_inputs.begin(), extra_inputs.end());
    NodeBuilder n = b.Node(op, inputs, {"y"}, "op").Domain(kMl);
    edit(n);
    b.Output("y");
    return b;
  };
  ExpectRejected(one("Scaler",
                     [](NodeBuilder& n) {
                       n.Floats("offset", {1, 2});
                     }),
                 "node 'op' (Scaler): attribute 'offset' has 2 values; the input has 3 features");
  ExpectRejected(one("Normalizer", [](NodeBuilder& n) { n.String("norm", "L3"); }),
                 "node 'op' (Normalizer): attribute 'norm' is 'L3'");
  ExpectRejected(one("Imputer", [](NodeBuilder&) {}),
                 "node 'op' (Imputer): attribute 'imputed_value_floats' is missing");
  ExpectRejected(one("Imputer", [](NodeBuilder& n) { n.Ints("imputed_value_int64s", {1}); }),
                 "'imputed_value_int64s' and 'replaced_value_int64' are not supported");
  ExpectRejected(one("ZipMap",
                     [](NodeBuilder& n) {
                       n.Ints("classlabels_int64s", {0, 1});
                     }),
                 "node 'op' (ZipMap): input 'x' has 3 columns for 2 class labels");
  ExpectRejected(
      one("LinearRegressor",
          [](NodeBuilder& n) {
            n.Floats("coefficients", {1, 2});
          }),
      "node 'op' (LinearRegressor): attribute 'coefficients' has 2 values; 1 scores of 3 "
      "features need 3");
  ExpectRejected(one("LinearClassifier",
                     [](NodeBuilder& n) {
                       n.Floats("coefficients", {1, 2, 3, 4, 5, 6})
                           .Floats("intercepts", {0, 0})
                           .Ints("classlabels_ints", {0, 1, 2});
                     }),
                 "node 'op' (LinearClassifier): 2 intercepts for 3 class labels");
  ExpectRejected(one("LinearClassifier",
                     [](NodeBuilder& n) {
                       n.Floats("coefficients", {1, 2, 3})
                           .Floats("intercepts", {0})
                           .Ints("classlabels_ints", {0, 1})
                           .String("post_transform", "PROBIT");
                     }),
                 "PROBIT with one score column for two classes is not supported");
  OnnxModelBuilder afe = one("ArrayFeatureExtractor", [](NodeBuilder&) {}, {"idx"});
  afe.Int64Initializer("idx", {2}, {0, 3});
  ExpectRejected(afe, "node 'op' (ArrayFeatureExtractor): index 3 is out of range for 3 features");
  OnnxModelBuilder afe_runtime = one("ArrayFeatureExtractor", [](NodeBuilder&) {}, {"x"});
  ExpectRejected(afe_runtime, "(the indices) must be an int64 constant");
}

TEST(DefaultDomainOps, RejectWhatTheyCannotDo) {
  const auto graph = [](const std::function<void(OnnxModelBuilder&)>& body, int64_t opset = 13) {
    OnnxModelBuilder b(opset);
    b.Input("x", {kBatch, 3});
    body(b);
    b.Output("y");
    return b;
  };
  ExpectRejected(graph([](OnnxModelBuilder& b) {
                   b.Int64Initializer("i", {1}, {0});
                   b.Node("Gather", {"x", "i"}, {"y"}, "g").Int("axis", 0);
                 }),
                 "node 'g' (Gather): cannot gather along the batch axis");
  ExpectRejected(graph([](OnnxModelBuilder& b) {
                   b.Int64Initializer("i", {1}, {3});
                   b.Node("Gather", {"x", "i"}, {"y"}, "g").Int("axis", 1);
                 }),
                 "index 3 is out of range for axis 1 of size 3");
  ExpectRejected(graph([](OnnxModelBuilder& b) {
                   b.Node("Relu", {"x"}, {"r"});
                   b.Node("Gather", {"x", "r"}, {"y"}, "g").Int("axis", 1);
                 }),
                 "indices 'r' must be an int64 constant");
  ExpectRejected(graph([](OnnxModelBuilder& b) {
                   b.Int64Initializer("axes", {1}, {1});
                   b.Node("Squeeze", {"x", "axes"}, {"y"}, "s");
                 }),
                 "node 's' (Squeeze): cannot squeeze axis 1 of [N,3]: its size is not 1");
  ExpectRejected(
      graph([](OnnxModelBuilder& b) { b.Node("Unsqueeze", {"x"}, {"y"}, "u").Ints("axes", {1}); }),
      "node 'u' (Unsqueeze): takes its axes as an input in this opset, not an attribute");
  ExpectRejected(graph([](OnnxModelBuilder& b) {
                   b.Node("Transpose", {"x"}, {"y"}, "t").Ints("perm", {0, 0});
                 }),
                 "node 't' (Transpose): attribute 'perm' is not a permutation of the 2 axes");
  ExpectRejected(graph([](OnnxModelBuilder& b) {
                   b.Node("ReduceMean", {"x"}, {"y"}, "r").Ints("axes", {1, 1});
                 }),
                 "node 'r' (ReduceMean): axis 1 is repeated");
  ExpectRejected(
      graph([](OnnxModelBuilder& b) { b.Node("ReduceSum", {"x"}, {"y"}, "r").Ints("axes", {1}); }),
      "node 'r' (ReduceSum): takes its axes as an input in this opset, not an attribute");
  ExpectRejected(graph([](OnnxModelBuilder& b) {
                   b.Node("Where", {"x", "x", "x"}, {"y"}, "w");
                 }),
                 "node 'w' (Where): condition 'x' is float32; it must be bool");
  ExpectRejected(graph([](OnnxModelBuilder& b) {
                   b.Int64Initializer("k", {1}, {int64_t{1} << 30});
                   b.Node("Equal", {"x", "k"}, {"y"}, "e");
                 }),
                 "node 'e' (Equal): int64 constant 'k' holds 1073741824, beyond 2^24");
}

TEST(DefaultDomainOps, RefusesAnOutputTooWideForABatch) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 3});
  b.Int64Initializer("i", {20000}, std::vector<int64_t>(20000, 0));
  b.Node("Gather", {"x", "i"}, {"y"}, "g").Int("axis", 1);
  b.Output("y");
  ExpectRejected(b, "output 'y' has 20000 values per row; at most 16384 are supported");
}

TEST(DefaultDomainOps, ReduceMaxAndMinKeepNaNAndInfinities) {
  OnnxModelBuilder b(13);
  b.Input("x", {kBatch, 2});
  b.Node("ReduceMax", {"x"}, {"mx"}).Ints("axes", {1});
  b.Node("ReduceMin", {"x"}, {"mn"}).Ints("axes", {1});
  b.Node("Concat", {"mx", "mn"}, {"y"}).Int("axis", 1);
  b.Output("y");
  const float inf = std::numeric_limits<float>::infinity();
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto out = (*model)->Run(testing::Rows(3, 2, {-inf, -inf, 1.0f, NAN, inf, inf}));
  ASSERT_TRUE(out.ok());
  EXPECT_EQ((*out)(0, 0), -inf);
  EXPECT_TRUE(std::isnan((*out)(1, 0)));
  EXPECT_TRUE(std::isnan((*out)(1, 1)));
  EXPECT_EQ((*out)(2, 1), inf);
}

TEST(DefaultDomainOps, ComparisonsFeedWhere) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 3}).Initializer("zero", {1}, {0.0f}).Initializer("big", {1}, {100.0f});
  b.Int64Initializer("two", {}, {2});
  b.Node("Greater", {"x", "zero"}, {"c"});
  b.Node("Where", {"c", "x", "big"}, {"w"});
  b.Node("Neg", {"w"}, {"n"});
  // An int64 constant compared with a value, and as an exponent.
  b.Node("Equal", {"x", "two"}, {"is_two"});
  b.Node("Where", {"is_two", "big", "n"}, {"m"});
  b.Node("Pow", {"m", "two"}, {"y"});
  b.Output("y");
  const Matrix out = testing::LoadAndRun(b, testing::Rows(1, 3, {-1.0f, 2.0f, 0.0f}));
  EXPECT_TRUE(testing::Near(out, testing::Rows(1, 3, {10000.0f, 10000.0f, 10000.0f})));
  const Matrix out2 = testing::LoadAndRun(b, testing::Rows(1, 3, {3.0f, 1.0f, 0.0f}));
  EXPECT_TRUE(testing::Near(out2, testing::Rows(1, 3, {9.0f, 1.0f, 10000.0f})));
}

}  // namespace
}  // namespace dim::core
