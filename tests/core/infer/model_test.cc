#include "core/infer/model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <thread>

#include "tests/core/infer/onnx_test_model.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

using testing::kBatch;
using testing::LoadAndRun;
using testing::Near;
using testing::OnnxModelBuilder;
using testing::Rows;

// What torch.onnx.export writes for nn.Sequential(nn.Linear(2, 3), nn.ReLU(),
// nn.Linear(3, 2), nn.Softmax(dim=1)), with raw little-endian initializers.
//   layer 1: W1 = [[1,-1],[0,2],[1,1]], b1 = [0,-1,0.5]
//   layer 2: W2 = [[1,0,1],[0,1,-1]],  b2 = [0,0]
OnnxModelBuilder Mlp(int64_t opset = 13) {
  OnnxModelBuilder b(opset);
  b.Input("input", {kBatch, 2}).OutputWithShape("output", {kBatch, 2});
  b.RawInitializer("fc1.weight", {3, 2}, {1, -1, 0, 2, 1, 1});
  b.RawInitializer("fc1.bias", {3}, {0, -1, 0.5f});
  b.RawInitializer("fc2.weight", {2, 3}, {1, 0, 1, 0, 1, -1});
  b.RawInitializer("fc2.bias", {2}, {0, 0});
  b.Node("Gemm", {"input", "fc1.weight", "fc1.bias"}, {"h"}, "/fc1/Gemm")
      .Float("alpha", 1)
      .Float("beta", 1)
      .Int("transB", 1);
  b.Node("Relu", {"h"}, {"r"}, "/act/Relu");
  b.Node("Gemm", {"r", "fc2.weight", "fc2.bias"}, {"logits"}, "/fc2/Gemm").Int("transB", 1);
  b.Node("Softmax", {"logits"}, {"output"}, "/softmax/Softmax").Int("axis", 1);
  return b;
}

// The same MLP computed by hand for one row.
std::vector<float> MlpByHand(float x0, float x1) {
  const float h0 = std::max(0.0f, x0 - x1);
  const float h1 = std::max(0.0f, 2 * x1 - 1);
  const float h2 = std::max(0.0f, x0 + x1 + 0.5f);
  const float l0 = h0 + h2;
  const float l1 = h1 - h2;
  const float m = std::max(l0, l1);
  const float e0 = std::exp(l0 - m), e1 = std::exp(l1 - m);
  return {e0 / (e0 + e1), e1 / (e0 + e1)};
}

Matrix MlpByHand(const Matrix& x) {
  Matrix y(x.rows(), 2);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const std::vector<float> row = MlpByHand(x(r, 0), x(r, 1));
    y(r, 0) = row[0];
    y(r, 1) = row[1];
  }
  return y;
}

TEST(Model, RunsATwoLayerMlpOnOneRow) {
  auto model = Mlp().Load("mlp");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->name(), "mlp");
  EXPECT_EQ((*model)->input_width(), 2);
  EXPECT_EQ((*model)->output_width(), 2);
  // x = [1, 2]: h = relu([-1, 3, 3.5]) = [0, 3, 3.5]; logits = [3.5, -0.5];
  // softmax = [1, e^-4] / (1 + e^-4).
  auto y = (*model)->Run(Rows(1, 2, {1, 2}));
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  const float p1 = std::exp(-4.0f) / (1 + std::exp(-4.0f));
  EXPECT_TRUE(Near(*y, Rows(1, 2, {1 - p1, p1})));
}

TEST(Model, RunsATwoLayerMlpOnManyRows) {
  // More rows than one slice (1024), with a partial last slice.
  auto model = Mlp().Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  Matrix x(3001, 2);
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    x(r, 0) = static_cast<float>(r % 17) * 0.25f - 2;
    x(r, 1) = static_cast<float>(r % 11) * -0.5f + 1.5f;
  }
  auto y = (*model)->Run(x);
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_TRUE(Near(*y, MlpByHand(x)));
}

TEST(Model, SoftmaxOpsetsAgreeOn2DInputs) {
  const Matrix x = Rows(3, 2, {1, 2, -1, 0.5f, 0, 0});
  for (int64_t opset : {9, 11, 12, 13, 17}) {
    SCOPED_TRACE(opset);
    EXPECT_TRUE(Near(LoadAndRun(Mlp(opset), x), MlpByHand(x)));
  }
}

TEST(Model, RunsAnEmptyBatch) {
  auto model = Mlp().Load();
  ASSERT_TRUE(model.ok());
  auto y = (*model)->Run(Matrix(0, 2));
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(y->rows(), 0);
  EXPECT_EQ(y->cols(), 2);
}

TEST(Model, AcceptsAFixedBatchDimensionAsTheBatch) {
  // torch.onnx.export without dynamic_axes declares the batch as 1.
  OnnxModelBuilder b = Mlp();
  b.InputDim(0).set_dim_value(1);
  const Matrix x = Rows(3, 2, {1, 2, -1, 0.5f, 0, 0});
  EXPECT_TRUE(Near(LoadAndRun(b, x), MlpByHand(x)));
}

TEST(Model, LogisticRegression) {
  // sigmoid(x . w + b) with w = [2, -1], b = 0.5.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 2}).Output("p");
  b.Initializer("w", {2, 1}, {2, -1});
  b.Initializer("b", {1}, {0.5f});
  b.Node("MatMul", {"x", "w"}, {"z0"});
  b.Node("Add", {"z0", "b"}, {"z"});
  b.Node("Sigmoid", {"z"}, {"p"});
  const auto sig = [](float z) { return 1 / (1 + std::exp(-z)); };
  EXPECT_TRUE(Near(LoadAndRun(b, Rows(2, 2, {1, 1, 0, 3})), Rows(2, 1, {sig(1.5f), sig(-2.5f)})));
}

TEST(Model, RunRejectsTheWrongWidth) {
  auto model = Mlp().Load("mlp");
  ASSERT_TRUE(model.ok());
  auto y = (*model)->Run(Matrix::Zero(2, 3));
  ASSERT_FALSE(y.ok());
  EXPECT_EQ(y.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(y.status().message(), "model 'mlp': input has 3 columns, expected 2");
}

TEST(Model, RunIsThreadSafe) {
  auto model = Mlp().Load();
  ASSERT_TRUE(model.ok());
  std::shared_ptr<const Model> m = *model;
  std::vector<std::thread> threads;
  std::vector<int> failures(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Matrix x(1 + (i + t) % 7, 2);
        for (Eigen::Index r = 0; r < x.rows(); ++r) {
          x(r, 0) = static_cast<float>(t) - static_cast<float>(r);
          x(r, 1) = static_cast<float>(i % 5) * 0.3f;
        }
        auto y = m->Run(x);
        if (!y.ok() || !Near(*y, MlpByHand(x))) ++failures[static_cast<size_t>(t)];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

TEST(Model, LoadFileReadsAModelNamedAfterItsStem) {
  const dim::testing::ScratchDir dir;
  const std::filesystem::path path = dir.Write("two_layer_mlp.onnx", Mlp().Bytes());
  auto model = Model::LoadFile(path);
  std::filesystem::remove(path);  // The loaded model no longer needs its file.
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->name(), "two_layer_mlp");
  EXPECT_TRUE(Near(*(*model)->Run(Rows(1, 2, {1, 2})), MlpByHand(Rows(1, 2, {1, 2}))));
}

TEST(Model, LoadFileOfAMissingFileIsNotFound) {
  auto model = Model::LoadFile("/nonexistent/dir/model.onnx");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_NE(model.status().message().find("/nonexistent/dir/model.onnx"), std::string::npos);
}

TEST(Model, LoadFileOfADirectoryIsInvalid) {
  auto model = Model::LoadFile(std::filesystem::temp_directory_path());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
}

TEST(Model, RejectsEmptyBytes) {
  auto model = Model::LoadBytes("", "x");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(model.status().message(), "model 'x': not a valid ONNX model (empty file)");
}

TEST(Model, RejectsCorruptBytes) {
  const std::string garbage = "\xff\xff\xff\xff this is not a protobuf \x01\x02";
  auto model = Model::LoadBytes(garbage, "x");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(model.status().message().rfind("model 'x': not a valid ONNX model (", 0), 0u)
      << model.status().message();
}

TEST(Model, RejectsTextThatIsNotAModel) {
  auto model = Model::LoadBytes("name,age\nbob,3\n", "x");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("not a valid ONNX model"), std::string::npos);
}

TEST(Model, RejectsTruncatedBytes) {
  const std::string bytes = Mlp().Bytes();
  auto model = Model::LoadBytes(std::string_view(bytes).substr(0, bytes.size() - 7), "x");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("model 'x': not a valid ONNX model"), std::string::npos)
      << model.status().message();
}

TEST(Model, NeverCrashesOnAnyPrefixOrByteFlip) {
  const std::string bytes = Mlp().Bytes();
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto model = Model::LoadBytes(std::string_view(bytes).substr(0, n), "x");
    EXPECT_FALSE(model.ok()) << "prefix of " << n << " bytes loaded";
    if (!model.ok()) {
      EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    }
  }
  std::mt19937 rng(42);
  for (int i = 0; i < 3000; ++i) {
    std::string mutated = bytes;
    for (int k = 0; k < 1 + i % 4; ++k) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng() & 0xff);
    }
    auto model = Model::LoadBytes(mutated, "x");
    if (model.ok() && (*model)->input_width() <= 1 << 20) {
      // Whatever loaded must also run.
      auto y = (*model)->Run(Matrix::Ones(3, (*model)->input_width()));
      EXPECT_TRUE(y.ok()) << y.status().ToString();
    } else if (!model.ok()) {
      EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace dim::core
