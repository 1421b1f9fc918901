// The CUDA backend: device names, the honest refusal where CUDA is missing, and, where a
// GPU exists, the same outputs as the CPU for every operator kind (within 1e-6 absolute
// plus 1e-5 relative). Tests that need a GPU skip, saying why, where there is none.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/infer/device.h"
#include "core/infer/tensor.h"
#include "tests/core/infer/onnx_test_model.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

using ::testing::HasSubstr;
using testing::kBatch;
using testing::OnnxModelBuilder;

#define REQUIRE_GPU()                                                                           \
  do {                                                                                          \
    if (!GpuAvailable()) GTEST_SKIP() << "no usable CUDA GPU: " << CheckCudaUsable().message(); \
  } while (0)

constexpr double kAbsoluteTolerance = 1e-6;
constexpr double kRelativeTolerance = 1e-5;

Matrix RandomRows(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  Matrix m(rows, cols);
  for (int64_t i = 0; i < rows * cols; ++i) m.data()[i] = value(rng);
  return m;
}

std::vector<float> RandomValues(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> value(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = value(rng);
  return v;
}

::testing::AssertionResult Close(const Matrix& gpu, const Matrix& cpu) {
  if (gpu.rows() != cpu.rows() || gpu.cols() != cpu.cols()) {
    return ::testing::AssertionFailure() << "shape " << gpu.rows() << "x" << gpu.cols()
                                         << ", CPU gives " << cpu.rows() << "x" << cpu.cols();
  }
  for (int64_t i = 0; i < cpu.size(); ++i) {
    const double want = cpu.data()[i];
    const double got = gpu.data()[i];
    if (std::isnan(want) && std::isnan(got)) continue;
    if (!(std::abs(got - want) <= kAbsoluteTolerance + kRelativeTolerance * std::abs(want))) {
      return ::testing::AssertionFailure() << "value " << i << " (row " << i / cpu.cols()
                                           << "): cuda " << got << ", cpu " << want;
    }
  }
  return ::testing::AssertionSuccess();
}

// Loads the model on both devices and compares their outputs for batches of these sizes.
void ExpectCudaMatchesCpu(const std::string& bytes, const std::string& name,
                          const std::vector<int64_t>& batches = {1, 7, 4096}) {
  auto cpu = Model::LoadBytes(bytes, name);
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  auto gpu = Model::LoadBytes(bytes, name, Device::kCuda);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  EXPECT_EQ((*gpu)->device(), Device::kCuda);
  for (int64_t rows : batches) {
    const Matrix input = RandomRows(rows, (*cpu)->input_width(), static_cast<uint32_t>(rows));
    auto want = (*cpu)->Run(input);
    ASSERT_TRUE(want.ok()) << want.status().ToString();
    auto got = (*gpu)->Run(input);
    ASSERT_TRUE(got.ok()) << name << ", " << rows << " rows: " << got.status().ToString();
    EXPECT_TRUE(Close(*got, *want)) << name << ", " << rows << " rows";
  }
}

void ExpectCudaMatchesCpu(const OnnxModelBuilder& b, const std::string& name,
                          const std::vector<int64_t>& batches = {1, 7, 4096}) {
  ExpectCudaMatchesCpu(b.Bytes(), name, batches);
}

// x [N, 4] -> (the node the caller adds) -> y.
OnnxModelBuilder OneNode(int64_t opset = 13) {
  OnnxModelBuilder b(opset);
  b.Input("x", {kBatch, 4}).Output("y");
  return b;
}

OnnxModelBuilder SmallLinear() {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 3}).Output("y");
  b.Initializer("W", {2, 3}, {0.1f, 0.2f, 0.3f, -0.4f, 0.5f, -0.6f});
  b.Node("Gemm", {"x", "W"}, {"y"}).Int("transB", 1);
  return b;
}

// ---- Device names and the refusal without CUDA: these run everywhere. ----

TEST(Device, ParsesAndNamesBothDevices) {
  EXPECT_EQ(ParseDevice("cpu"), Device::kCpu);
  EXPECT_EQ(ParseDevice("cuda"), Device::kCuda);
  EXPECT_EQ(ParseDevice("gpu"), std::nullopt);
  EXPECT_EQ(ParseDevice("CUDA"), std::nullopt);
  EXPECT_EQ(ParseDevice(""), std::nullopt);
  EXPECT_EQ(DeviceName(Device::kCpu), "cpu");
  EXPECT_EQ(DeviceName(Device::kCuda), "cuda");
}

TEST(Device, ModelsLoadOnTheCpuByDefault) {
  auto model = SmallLinear().Load();
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->device(), Device::kCpu);
}

TEST(CudaModel, CountsDevicesWithoutErrorWhenCompiledIn) {
  const Result<int> count = CudaDeviceCount();
  if (!CudaCompiledIn()) {
    EXPECT_EQ(count.status().code(), StatusCode::kFailedPrecondition);
    return;
  }
  // No driver and no device both mean 0, not an error.
  ASSERT_TRUE(count.ok()) << count.status().ToString();
  EXPECT_GE(*count, 0);
  EXPECT_EQ(GpuAvailable(), *count > 0);
}

TEST(CudaModel, LoadingOnCudaWithoutAGpuIsAFailedPrecondition) {
  if (GpuAvailable()) GTEST_SKIP() << "a CUDA GPU is present";
  const Status usable = CheckCudaUsable();
  EXPECT_EQ(usable.code(), StatusCode::kFailedPrecondition);
  const std::string expected = CudaCompiledIn()
                                   ? "no CUDA device: "
                                   : "this dim was built without CUDA (meson setup -Dcuda=enabled)";
  EXPECT_THAT(usable.message(), HasSubstr(expected));
  auto model = Model::LoadBytes(SmallLinear().Bytes(), "linear", Device::kCuda);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(model.status().message(), HasSubstr("model 'linear'"));
  EXPECT_THAT(model.status().message(), HasSubstr(expected));
}

TEST(CudaModel, AnInvalidModelIsRejectedWhateverTheDevice) {
  auto model = Model::LoadBytes("not onnx", "broken", Device::kCuda);
  ASSERT_FALSE(model.ok());
  // Without a GPU the device is the first complaint; with one, the file is.
  EXPECT_EQ(model.status().code(),
            GpuAvailable() ? StatusCode::kInvalidArgument : StatusCode::kFailedPrecondition);
}

// ---- CPU and CUDA agree: these need a GPU. ----

TEST(CudaMatchesCpu, GemmAsTorchExportsLinear) {
  REQUIRE_GPU();
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 16}).Output("y");
  b.Initializer("W", {8, 16}, RandomValues(8 * 16, 1, -0.25f, 0.25f));
  b.Initializer("bias", {8}, RandomValues(8, 2));
  b.Node("Gemm", {"x", "W", "bias"}, {"y"}).Int("transB", 1);
  ExpectCudaMatchesCpu(b, "linear");
}

TEST(CudaMatchesCpu, GemmWithEveryShapeOfC) {
  REQUIRE_GPU();
  const std::vector<std::vector<int64_t>> c_shapes = {{}, {5}, {1, 5}, {1, 1}};
  for (const auto& c_shape : c_shapes) {
    OnnxModelBuilder b;
    b.Input("x", {kBatch, 4}).Output("y");
    b.Initializer("B", {4, 5}, RandomValues(20, 3));
    b.Initializer("C", c_shape, RandomValues(static_cast<size_t>(NumElements(c_shape)), 4));
    b.Node("Gemm", {"x", "B", "C"}, {"y"}).Float("alpha", 0.5f).Float("beta", 2.0f);
    ExpectCudaMatchesCpu(b, "gemm_c_rank" + std::to_string(c_shape.size()));
  }
}

TEST(CudaMatchesCpu, GemmWithoutCAndWithBetaZero) {
  REQUIRE_GPU();
  OnnxModelBuilder plain;
  plain.Input("x", {kBatch, 4}).Output("y");
  plain.Initializer("B", {4, 3}, RandomValues(12, 5));
  plain.Node("Gemm", {"x", "B"}, {"y"}).Float("alpha", -1.5f);
  ExpectCudaMatchesCpu(plain, "gemm_plain");

  OnnxModelBuilder beta0;
  beta0.Input("x", {kBatch, 4}).Output("y");
  beta0.Initializer("B", {3, 4}, RandomValues(12, 6));
  beta0.Initializer("C", {3}, {NAN, 1, 2});
  beta0.Node("Gemm", {"x", "B", "C"}, {"y"}).Int("transB", 1).Float("beta", 0.0f);
  ExpectCudaMatchesCpu(beta0, "gemm_beta0");
}

TEST(CudaMatchesCpu, MatMulTwoByTwoAndVector) {
  REQUIRE_GPU();
  OnnxModelBuilder mm;
  mm.Input("x", {kBatch, 6}).Output("y");
  mm.Initializer("B", {6, 3}, RandomValues(18, 7));
  mm.Node("MatMul", {"x", "B"}, {"y"});
  ExpectCudaMatchesCpu(mm, "matmul_2d");

  OnnxModelBuilder mv;
  mv.Input("x", {kBatch, 6}).Output("y");
  mv.Initializer("v", {6}, RandomValues(6, 8));
  mv.Node("MatMul", {"x", "v"}, {"y"});
  ExpectCudaMatchesCpu(mv, "matmul_vector");
}

// x [N, 8] reshaped to [N, 2, 4], times B; flattened back to [N, 2 * cols].
OnnxModelBuilder StackedMatMul(const std::vector<int64_t>& b_shape) {
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 8}).Output("y");
  b.Int64Initializer("s", {3}, {-1, 2, 4});
  b.Initializer("B", b_shape, RandomValues(static_cast<size_t>(NumElements(b_shape)), 9));
  b.Node("Reshape", {"x", "s"}, {"x3"});
  b.Node("MatMul", {"x3", "B"}, {"p"});
  b.Node("Flatten", {"p"}, {"y"});
  return b;
}

TEST(CudaMatchesCpu, MatMulOfStacksTimesOneMatrix) {
  REQUIRE_GPU();
  ExpectCudaMatchesCpu(StackedMatMul({4, 3}), "matmul_nd_2d");    // One product.
  ExpectCudaMatchesCpu(StackedMatMul({1, 4, 3}), "matmul_nd_1");  // Strided, B repeated.
}

TEST(CudaMatchesCpu, MatMulOfTwoStacks) {
  REQUIRE_GPU();
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 8}).Output("y");
  b.Int64Initializer("sa", {3}, {-1, 2, 4});
  b.Int64Initializer("sb", {3}, {-1, 4, 2});
  b.Node("Reshape", {"x", "sa"}, {"a"});
  b.Node("Reshape", {"x", "sb"}, {"b"});
  b.Node("MatMul", {"a", "b"}, {"p"});  // [N,2,4] x [N,4,2]: strided batched.
  b.Node("Flatten", {"p"}, {"y"});
  ExpectCudaMatchesCpu(b, "matmul_stacks");
}

TEST(CudaMatchesCpu, MatMulWithBatchBroadcastFallsBackToTheCpu) {
  REQUIRE_GPU();
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 8}).Output("y");
  b.Int64Initializer("s", {4}, {-1, 2, 1, 4});
  b.Initializer("B", {2, 4, 3}, RandomValues(24, 10));
  b.Node("Reshape", {"x", "s"}, {"a"});  // [N,2,1,4] x [2,4,3]: B's batch [2] broadcasts.
  b.Node("MatMul", {"a", "B"}, {"p"});
  b.Node("Flatten", {"p"}, {"y"});
  ExpectCudaMatchesCpu(b, "matmul_broadcast");
}

TEST(CudaMatchesCpu, BinaryOperatorsWithBroadcasting) {
  REQUIRE_GPU();
  struct Case {
    std::string op;
    std::vector<int64_t> c_shape;
    bool constant_first;
    bool three_d;  // x seen as [N, 2, 3].
  };
  const std::vector<Case> cases = {
      {"Add", {6}, false, false},      {"Sub", {1, 6}, false, false}, {"Mul", {}, false, false},
      {"Div", {6}, false, false},      {"Sub", {6}, true, false},     {"Div", {1}, true, false},
      {"Add", {2, 1}, false, true},    {"Mul", {1, 3}, false, true},  {"Sub", {2, 3}, true, true},
      {"Div", {1, 1, 3}, false, true},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    OnnxModelBuilder b;
    b.Input("x", {kBatch, 6}).Output("y");
    std::string lhs = "x";
    if (c.three_d) {
      b.Int64Initializer("s", {3}, {-1, 2, 3});
      b.Node("Reshape", {"x", "s"}, {"x3"});
      lhs = "x3";
    }
    // Constants in [0.5, 2] keep divisions well away from zero.
    b.Initializer("c", c.c_shape,
                  RandomValues(static_cast<size_t>(NumElements(c.c_shape)), 11, 0.5f, 2.0f));
    const std::vector<std::string> inputs =
        c.constant_first ? std::vector<std::string>{"c", lhs} : std::vector<std::string>{lhs, "c"};
    if (c.constant_first && c.op == "Div") {
      b.Node("Sigmoid", {lhs}, {"pos"});  // c / x needs x away from zero: c / (1 + sigmoid).
      b.Initializer("one", {}, {1.0f});
      b.Node("Add", {"pos", "one"}, {"den"});
      b.Node(c.op, {"c", "den"}, {"r"});
    } else {
      b.Node(c.op, inputs, {"r"});
    }
    b.Node("Flatten", {"r"}, {"y"});
    ExpectCudaMatchesCpu(b, "binary_" + std::to_string(i) + "_" + c.op);
  }
}

TEST(CudaMatchesCpu, BinaryOfAValueWithItself) {
  REQUIRE_GPU();
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 5}).Output("y");
  b.Node("Mul", {"x", "x"}, {"y"});
  ExpectCudaMatchesCpu(b, "square");
}

TEST(CudaMatchesCpu, BroadcastOfMoreThanSixDimensionsFallsBackToTheCpu) {
  REQUIRE_GPU();
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 64}).Output("y");
  b.Int64Initializer("s", {7}, {-1, 2, 2, 2, 2, 2, 2});
  b.Initializer("c", {2, 1, 2, 1, 2, 1}, RandomValues(8, 12));
  b.Node("Reshape", {"x", "s"}, {"x7"});
  b.Node("Add", {"x7", "c"}, {"r"});
  b.Node("Flatten", {"r"}, {"y"});
  ExpectCudaMatchesCpu(b, "broadcast_rank7");
}

TEST(CudaMatchesCpu, UnaryOperators) {
  REQUIRE_GPU();
  for (const std::string op : {"Relu", "Sigmoid", "Tanh"}) {
    OnnxModelBuilder b = OneNode();
    b.Node(op, {"x"}, {"y"});
    ExpectCudaMatchesCpu(b, op);
  }
  OnnxModelBuilder leaky = OneNode();
  leaky.Node("LeakyRelu", {"x"}, {"y"}).Float("alpha", 0.2f);
  ExpectCudaMatchesCpu(leaky, "leaky_relu");

  OnnxModelBuilder clip13 = OneNode();
  clip13.Initializer("lo", {}, {-0.5f}).Initializer("hi", {}, {1.25f});
  clip13.Node("Clip", {"x", "lo", "hi"}, {"y"});
  ExpectCudaMatchesCpu(clip13, "clip_opset13");

  OnnxModelBuilder clip9 = OneNode(9);
  clip9.Node("Clip", {"x"}, {"y"}).Float("min", -1.0f).Float("max", 0.5f);
  ExpectCudaMatchesCpu(clip9, "clip_opset9");
}

TEST(CudaMatchesCpu, ElementWiseChainsInPlace) {
  REQUIRE_GPU();
  // x is read twice (Relu and Add), so the first op must not overwrite it in place.
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 4}).Output("y");
  b.Node("Relu", {"x"}, {"r"});
  b.Node("Tanh", {"r"}, {"t"});
  b.Node("Add", {"t", "x"}, {"y"});
  ExpectCudaMatchesCpu(b, "chain");
}

TEST(CudaMatchesCpu, SoftmaxAndLogSoftmax) {
  REQUIRE_GPU();
  for (const std::string op : {"Softmax", "LogSoftmax"}) {
    OnnxModelBuilder last = OneNode();
    last.Node(op, {"x"}, {"y"});  // Opset 13, axis -1: rows of 4.
    ExpectCudaMatchesCpu(last, op + "_rows");

    OnnxModelBuilder wide;
    wide.Input("x", {kBatch, 300}).Output("y");  // Rows longer than a block.
    wide.Node(op, {"x"}, {"y"});
    ExpectCudaMatchesCpu(wide, op + "_wide");

    OnnxModelBuilder middle;  // [N, 3, 2] over axis 1: columns.
    middle.Input("x", {kBatch, 6}).Output("y");
    middle.Int64Initializer("s", {3}, {-1, 3, 2});
    middle.Node("Reshape", {"x", "s"}, {"x3"});
    middle.Node(op, {"x3"}, {"s3"}).Int("axis", 1);
    middle.Node("Flatten", {"s3"}, {"y"});
    ExpectCudaMatchesCpu(middle, op + "_middle_axis");

    OnnxModelBuilder coerced(11);  // Opset 11, axis 1 of [N, 2, 3]: over the last 6.
    coerced.Input("x", {kBatch, 6}).Output("y");
    coerced.Int64Initializer("s", {3}, {-1, 2, 3});
    coerced.Node("Reshape", {"x", "s"}, {"x3"});
    coerced.Node(op, {"x3"}, {"s3"}).Int("axis", 1);
    coerced.Node("Flatten", {"s3"}, {"y"});
    ExpectCudaMatchesCpu(coerced, op + "_opset11");

    OnnxModelBuilder batch_axis = OneNode();  // Over the batch: mixes rows.
    batch_axis.Node(op, {"x"}, {"y"}).Int("axis", 0);
    ExpectCudaMatchesCpu(batch_axis, op + "_axis0");
  }
}

TEST(CudaMatchesCpu, BatchNormalization) {
  REQUIRE_GPU();
  const auto add_params = [](OnnxModelBuilder& b, int64_t channels) {
    const size_t c = static_cast<size_t>(channels);
    b.Initializer("scale", {channels}, RandomValues(c, 13));
    b.Initializer("bias", {channels}, RandomValues(c, 14));
    b.Initializer("mean", {channels}, RandomValues(c, 15));
    b.Initializer("var", {channels}, RandomValues(c, 16, 0.5f, 2.0f));
  };
  OnnxModelBuilder flat;
  flat.Input("x", {kBatch, 5}).Output("y");
  add_params(flat, 5);
  flat.Node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"});
  ExpectCudaMatchesCpu(flat, "batch_norm");

  OnnxModelBuilder spatial;  // [N, 2, 3]: 2 channels of 3 values.
  spatial.Input("x", {kBatch, 6}).Output("y");
  spatial.Int64Initializer("s", {3}, {-1, 2, 3});
  add_params(spatial, 2);
  spatial.Node("Reshape", {"x", "s"}, {"x3"});
  spatial.Node("BatchNormalization", {"x3", "scale", "bias", "mean", "var"}, {"b3"});
  spatial.Node("Flatten", {"b3"}, {"y"});
  ExpectCudaMatchesCpu(spatial, "batch_norm_spatial");
}

TEST(CudaMatchesCpu, Concat) {
  REQUIRE_GPU();
  OnnxModelBuilder cols;
  cols.Input("x", {kBatch, 4}).Output("y");
  cols.Node("Relu", {"x"}, {"r"});
  cols.Node("Tanh", {"x"}, {"t"});
  cols.Node("Concat", {"r", "x", "t"}, {"y"}).Int("axis", 1);
  ExpectCudaMatchesCpu(cols, "concat_columns");

  OnnxModelBuilder inner;  // [N,2,3] and [N,2,3] along axis 2: interleaved chunks.
  inner.Input("x", {kBatch, 6}).Output("y");
  inner.Int64Initializer("s", {3}, {-1, 2, 3});
  inner.Node("Reshape", {"x", "s"}, {"x3"});
  inner.Node("Sigmoid", {"x3"}, {"g3"});
  inner.Node("Concat", {"x3", "g3"}, {"c3"}).Int("axis", 2);
  inner.Node("Flatten", {"c3"}, {"y"});
  ExpectCudaMatchesCpu(inner, "concat_inner");

  OnnxModelBuilder rows;  // Along the batch: mixes rows.
  rows.Input("x", {kBatch, 4}).Output("y");
  rows.Node("Relu", {"x"}, {"r"});
  rows.Node("Concat", {"x", "r"}, {"c"}).Int("axis", 0);
  rows.Node("Reshape", {"c", "s"}, {"y"});
  rows.Int64Initializer("s", {2}, {-1, 8});
  ExpectCudaMatchesCpu(rows, "concat_rows", {1, 7, 4096});
}

TEST(CudaMatchesCpu, ArgMax) {
  REQUIRE_GPU();
  OnnxModelBuilder keep;
  keep.Input("x", {kBatch, 5}).Output("y");
  keep.Node("ArgMax", {"x"}, {"i"}).Int("axis", 1);
  keep.Node("Cast", {"i"}, {"y"}).Int("to", onnx::TensorProto::FLOAT);
  ExpectCudaMatchesCpu(keep, "argmax");

  OnnxModelBuilder ties;  // Relu makes ties (zeros); the last one wins.
  ties.Input("x", {kBatch, 6}).Output("y");
  ties.Int64Initializer("s", {3}, {-1, 2, 3});
  ties.Node("Reshape", {"x", "s"}, {"x3"});
  ties.Node("Relu", {"x3"}, {"r3"});
  ties.Node("ArgMax", {"r3"}, {"i"}).Int("axis", 2).Int("keepdims", 0).Int("select_last_index", 1);
  ties.Node("Cast", {"i"}, {"y"}).Int("to", onnx::TensorProto::FLOAT);
  ExpectCudaMatchesCpu(ties, "argmax_ties");
}

TEST(CudaMatchesCpu, ShapeOnlyOperators) {
  REQUIRE_GPU();
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 6}).Output("y");
  b.Int64Initializer("s", {3}, {0, 3, 2});
  b.Node("Reshape", {"x", "s"}, {"a"});
  b.Node("Identity", {"a"}, {"b"});
  b.Node("Dropout", {"b"}, {"c"});
  b.Node("Flatten", {"c"}, {"d"});
  b.Node("Relu", {"d"}, {"e"});
  b.Node("Add", {"e", "d"}, {"y"});  // d's buffer is shared by a..d: Relu must not reuse it.
  ExpectCudaMatchesCpu(b, "shape_ops");
}

TEST(CudaMatchesCpu, BigBatchesRunInSlicesOf65536Rows) {
  REQUIRE_GPU();
  ExpectCudaMatchesCpu(SmallLinear(), "linear_big", {65536, 70001});
}

TEST(CudaMatchesCpu, ConcurrentRunsAreIndependent) {
  REQUIRE_GPU();
  OnnxModelBuilder b;
  b.Input("x", {kBatch, 16}).Output("y");
  b.Initializer("W", {32, 16}, RandomValues(32 * 16, 17, -0.25f, 0.25f));
  b.Initializer("bias", {32}, RandomValues(32, 18));
  b.Node("Gemm", {"x", "W", "bias"}, {"h"}).Int("transB", 1);
  b.Node("Relu", {"h"}, {"r"});
  b.Node("Softmax", {"r"}, {"y"});
  auto cpu = b.Load();
  ASSERT_TRUE(cpu.ok()) << cpu.status().ToString();
  auto gpu = Model::LoadBytes(b.Bytes(), "mlp", Device::kCuda);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  std::vector<Matrix> inputs;
  std::vector<Matrix> expected;
  for (uint32_t t = 0; t < 8; ++t) {
    inputs.push_back(RandomRows(1000 + t, 16, 100 + t));
    auto want = (*cpu)->Run(inputs.back());
    ASSERT_TRUE(want.ok());
    expected.push_back(*want);
  }
  std::vector<Result<Matrix>> results(8, Status::Internal("not run"));
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 20; ++repeat) results[t] = (*gpu)->Run(inputs[t]);
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t t = 0; t < 8; ++t) {
    ASSERT_TRUE(results[t].ok()) << results[t].status().ToString();
    EXPECT_TRUE(Close(*results[t], expected[t])) << "thread " << t;
  }
}

// The PyTorch-exported models of tests/parity, on random inputs and on their references.
TEST(CudaMatchesCpu, ParityModels) {
  REQUIRE_GPU();
  const std::filesystem::path dir = dim::testing::SourceRoot() / "tests" / "parity" / "models";
  ASSERT_TRUE(std::filesystem::is_directory(dir))
      << "set DIM_SOURCE_ROOT to the source tree (looked for " << dir << ")";
  int models = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".onnx") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ExpectCudaMatchesCpu(bytes, entry.path().stem().string());
    ++models;
  }
  EXPECT_GE(models, 10);
}

}  // namespace
}  // namespace dim::core
