// Load-time validation: every rejection names what is wrong, and where.
#include "core/infer/graph_builder.h"

#include <gtest/gtest.h>

#include "tests/core/infer/onnx_test_model.h"

namespace dim::core {
namespace {

using testing::FloatTensor;
using testing::kBatch;
using testing::OnnxModelBuilder;

// Loads the model as "m" and expects INVALID_ARGUMENT with `expected` in the message.
void ExpectRejected(const OnnxModelBuilder& b, const std::string& expected) {
  auto model = b.Load("m");
  ASSERT_FALSE(model.ok()) << "loaded, expected: " << expected;
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find(expected), std::string::npos) << model.status().message();
  EXPECT_EQ(model.status().message().rfind("model 'm': ", 0), 0u) << model.status().message();
}

// x [N,4] -> fc1 (Gemm, W1 [4,8]) -> relu -> fc2 (Gemm, W2 [8,2]) -> y.
OnnxModelBuilder TwoLayers() {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 4}).Output("y");
  b.Initializer("W1", {4, 8}, std::vector<float>(32, 0.5f));
  b.Initializer("W2", {8, 2}, std::vector<float>(16, 0.25f));
  b.Node("Gemm", {"x", "W1"}, {"h"}, "fc1");
  b.Node("Relu", {"h"}, {"r"}, "relu");
  b.Node("Gemm", {"r", "W2"}, {"y"}, "fc2");
  return b;
}

TEST(GraphBuilder, AcceptsTheReferenceModel) {
  auto model = TwoLayers().Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto y = (*model)->Run(Matrix::Ones(2, 4));
  ASSERT_TRUE(y.ok());
  EXPECT_FLOAT_EQ((*y)(1, 1), 8 * (4 * 0.5f) * 0.25f);
}

TEST(GraphBuilder, RejectsUnsupportedOperator) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_node(2)->set_op_type("Conv");
  ExpectRejected(b, "node 'fc2' (Conv): unsupported operator");
}

TEST(GraphBuilder, NamesAnUnnamedNodeByIndex) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_node(1)->set_op_type("Gelu");
  b.proto().mutable_graph()->mutable_node(1)->clear_name();
  ExpectRejected(b, "node #1 (Gelu): unsupported operator");
}

TEST(GraphBuilder, RejectsOperatorFromAnotherDomain) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_node(1)->set_domain("com.microsoft");
  ExpectRejected(b, "node 'relu' (Relu): unsupported operator (domain 'com.microsoft')");
}

TEST(GraphBuilder, RejectsMissingInitializer) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_node(0)->set_input(1, "W");
  ExpectRejected(b, "node 'fc1' (Gemm): input 'W' has no initializer or producer");
}

TEST(GraphBuilder, RejectsShapeMismatch) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_initializer(0)->clear_dims();
  b.proto().mutable_graph()->mutable_initializer(0)->add_dims(8);
  b.proto().mutable_graph()->mutable_initializer(0)->add_dims(4);
  ExpectRejected(b, "node 'fc1' (Gemm): shape mismatch: A is [N,4] but B is [8,4]");
}

TEST(GraphBuilder, RejectsWrongNumberOfInputs) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_node(1)->add_input("h");
  ExpectRejected(b, "node 'relu' (Relu): takes 1 inputs, got 2");
}

TEST(GraphBuilder, RejectsACycle) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Add", {"x", "b"}, {"a"}, "first");
  b.Node("Relu", {"a"}, {"b"}, "second");
  b.Node("Identity", {"a"}, {"y"});
  ExpectRejected(b, "node 'first' (Add): input 'b' depends on the node's own output (a cycle)");
}

TEST(GraphBuilder, RejectsANodeReadingItsOwnOutput) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Add", {"x", "y"}, {"y"}, "loop");
  ExpectRejected(b, "node 'loop' (Add): input 'y' depends on the node's own output (a cycle)");
}

TEST(GraphBuilder, SortsNodesListedOutOfOrder) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Relu", {"t"}, {"y"});
  b.Initializer("one", {}, {1});
  b.Node("Sub", {"x", "one"}, {"t"});
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto y = (*model)->Run(testing::Rows(1, 2, {0, 3}));
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(testing::Near(*y, testing::Rows(1, 2, {0, 2})));
}

TEST(GraphBuilder, RejectsAValueDefinedTwice) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_node(1)->set_output(0, "h");
  ExpectRejected(b, "node 'relu' (Relu): output 'h' is already defined");
}

TEST(GraphBuilder, RejectsANodeOverwritingAnInitializer) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_node(1)->set_output(0, "W2");
  ExpectRejected(b, "node 'relu' (Relu): output 'W2' is already defined");
}

TEST(GraphBuilder, RejectsNonFloatInput) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 4}, onnx::TensorProto::INT64).Output("y");
  b.Node("Relu", {"x"}, {"y"});
  ExpectRejected(b, "input 'x' has type INT64; only float32 is supported");
}

TEST(GraphBuilder, RejectsDoubleInitializer) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_initializer(1)->set_data_type(onnx::TensorProto::DOUBLE);
  ExpectRejected(b, "initializer 'W2': tensor 'W2' has type DOUBLE");
}

TEST(GraphBuilder, RejectsInitializerWithTooFewValues) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_initializer(1)->mutable_float_data()->RemoveLast();
  ExpectRejected(b, "tensor 'W2' holds 15 values but its dimensions need 16");
}

TEST(GraphBuilder, RejectsInitializerWithHugeDimensions) {
  OnnxModelBuilder b = TwoLayers();
  onnx::TensorProto* w = b.proto().mutable_graph()->mutable_initializer(1);
  w->clear_dims();
  w->add_dims(int64_t{1} << 40);
  w->add_dims(int64_t{1} << 40);
  ExpectRejected(b, "tensor 'W2' has invalid dimensions");
}

TEST(GraphBuilder, RejectsInitializerWithNegativeDimensions) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_initializer(1)->set_dims(0, -8);
  ExpectRejected(b, "tensor 'W2' has invalid dimensions");
}

TEST(GraphBuilder, RejectsExternalData) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_initializer(1)->set_data_location(onnx::TensorProto::EXTERNAL);
  ExpectRejected(b, "tensor 'W2' uses external data");
}

TEST(GraphBuilder, RejectsNoGraph) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().clear_graph();
  ExpectRejected(b, "not a valid ONNX model (no graph)");
}

TEST(GraphBuilder, RejectsNoInputs) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->clear_input();
  ExpectRejected(b, "the graph has no inputs");
}

TEST(GraphBuilder, RejectsNoOutputs) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->clear_output();
  ExpectRejected(b, "the graph has no outputs");
}

TEST(GraphBuilder, RejectsTwoInputs) {
  OnnxModelBuilder b = TwoLayers();
  b.Input("z", {kBatch, 4});
  ExpectRejected(b, "the graph has 2 inputs ('x', 'z'); exactly one is supported");
}

TEST(GraphBuilder, IgnoresInitializersListedAsInputs) {
  OnnxModelBuilder b = TwoLayers();
  b.Input("W1", {4, 8});  // IR version 3 style.
  EXPECT_TRUE(b.Load().ok());
}

TEST(GraphBuilder, RejectsUnknownFeatureDimension) {
  OnnxModelBuilder b = TwoLayers();
  b.InputDim(1).set_dim_param("features");
  ExpectRejected(b, "input 'x' has an unknown dimension 1 ('features')");
}

TEST(GraphBuilder, RejectsNegativeOrHugeInputDimensions) {
  for (int64_t bad : {int64_t{-4}, int64_t{0}, int64_t{1} << 50}) {
    SCOPED_TRACE(bad);
    OnnxModelBuilder b = TwoLayers();
    b.InputDim(1).set_dim_value(bad);
    ExpectRejected(b, "input 'x' has an invalid dimension 1");
  }
  OnnxModelBuilder b;
  b.Input("x", {kBatch, int64_t{1} << 30, int64_t{1} << 30}).Output("x");
  ExpectRejected(b, "is too large");
}

TEST(GraphBuilder, RejectsBroadcastsThatWouldNotFitInMemory) {
  // Two small constants, [2^14,1] and [1,2^15], broadcast to 2^29 values per row.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 1, 1}).Output("y");
  b.Initializer("c1", {1 << 14, 1}, std::vector<float>(1 << 14, 1.0f));
  b.Initializer("c2", {1, 1 << 15}, std::vector<float>(1 << 15, 1.0f));
  b.Node("Add", {"x", "c1"}, {"a"});
  b.Node("Add", {"a", "c2"}, {"y"}, "big");
  ExpectRejected(b, "node 'big' (Add): output 'y' of shape [N,16384,32768] is too large");
}

TEST(GraphBuilder, RejectsValuesWithTheBatchSquared) {
  // [N,1] reshaped to [1,N], then broadcast against [N,1]: [N,N].
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 1}).Output("y");
  b.Int64Initializer("shape", {2}, {1, -1});
  b.Node("Reshape", {"x", "shape"}, {"t"});
  b.Node("Add", {"x", "t"}, {"y"}, "square");
  ExpectRejected(b, "node 'square' (Add): output 'y': shape [N,N] would multiply the batch");
}

TEST(GraphBuilder, RejectsInputWithoutShape) {
  OnnxModelBuilder b = TwoLayers();
  b.InputType().clear_shape();
  ExpectRejected(b, "input 'x' has no shape");
}

TEST(GraphBuilder, RejectsUnsupportedOpset) {
  OnnxModelBuilder b(3);
  b.Input("x", {kBatch, 2}).Output("y");
  b.Node("Relu", {"x"}, {"y"});
  ExpectRejected(b, "opset 3 is not supported");
}

TEST(GraphBuilder, RejectsModelWithoutDefaultOpset) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_opset_import(0)->set_domain("com.example");
  ExpectRejected(b, "no opset is imported for the default ONNX domain");
}

TEST(GraphBuilder, RejectsDefaultDomainNodesWhenOnlyOnnxMlIsImported) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_opset_import(0)->set_domain("ai.onnx.ml");
  b.proto().mutable_opset_import(0)->set_version(3);
  ExpectRejected(b, "the model imports no opset for the domain 'ai.onnx'");
}

TEST(GraphBuilder, RejectsUnsupportedOnnxMlOpset) {
  OnnxModelBuilder b = TwoLayers();
  onnx::OperatorSetIdProto* ml = b.proto().add_opset_import();
  ml->set_domain("ai.onnx.ml");
  ml->set_version(4);
  ExpectRejected(b, "ai.onnx.ml opset 4 is not supported (1 to 3 are)");
}

TEST(GraphBuilder, RejectsOutputWithoutProducer) {
  OnnxModelBuilder b = TwoLayers();
  b.Output("z");
  ExpectRejected(b, "output 'z' has no producer");
}

TEST(GraphBuilder, RejectsOutputDeclaredWithAnotherType) {
  OnnxModelBuilder b = TwoLayers();
  b.OutputType().set_elem_type(onnx::TensorProto::DOUBLE);
  ExpectRejected(b, "output 'y' is declared as DOUBLE but computes FLOAT");
}

TEST(GraphBuilder, RejectsOutputDeclaredWithAnotherShape) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 4}).OutputWithShape("y", {kBatch, 5});
  b.Node("Relu", {"x"}, {"y"});
  ExpectRejected(b, "output 'y' is declared with another shape than the [N,4] it computes");
}

TEST(GraphBuilder, ValidatesNodesTheOutputDoesNotNeed) {
  OnnxModelBuilder b = TwoLayers();
  b.Node("Conv", {"x"}, {"unused"}, "dead");
  ExpectRejected(b, "node 'dead' (Conv): unsupported operator");
}

TEST(GraphBuilder, SkipsNodesTheFirstOutputDoesNotNeed) {
  // The second output is valid but not computed by Run; the result is the first output.
  OnnxModelBuilder b = TwoLayers();
  b.Output("h");
  b.Node("Sigmoid", {"x"}, {"side"});
  auto model = b.Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->output_width(), 2);
}

TEST(GraphBuilder, RejectsAConstantWithoutAValue) {
  OnnxModelBuilder b = TwoLayers();
  b.Node("Constant", {}, {"c"}, "const");
  ExpectRejected(b, "node 'const' (Constant): needs exactly one attribute holding the value");
}

TEST(GraphBuilder, RejectsSparseInitializers) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->add_sparse_initializer();
  ExpectRejected(b, "sparse initializers are not supported");
}

TEST(GraphBuilder, BuildGraphDoesNotNameTheModel) {
  OnnxModelBuilder b = TwoLayers();
  b.proto().mutable_graph()->mutable_node(2)->set_op_type("Conv");
  auto graph = BuildGraph(b.proto());
  ASSERT_FALSE(graph.ok());
  EXPECT_EQ(graph.status().message(), "node 'fc2' (Conv): unsupported operator");
}

}  // namespace
}  // namespace dim::core
