// Parity with PyTorch: every model under tests/parity/models (NAME.onnx, exported by
// make_parity_models.py) must give, for its reference input (NAME.json), torch's float32
// output within 1e-6 absolute plus 1e-5 relative, for the whole batch and for one row alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/infer/model.h"
#include "core/matrix.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

constexpr double kAbsoluteTolerance = 1e-6;
constexpr double kRelativeTolerance = 1e-5;

// The models the export script writes; the folder must hold exactly these.
const std::vector<std::string>& ExpectedModels() {
  static const std::vector<std::string> kModels = {
      "batch_norm",          "clip",           "log_softmax_classifier",
      "logistic_regression", "mlp_leaky_relu", "mlp_relu",
      "mlp_sigmoid",         "mlp_tanh",       "softmax_classifier_opset11",
      "two_branch_concat",
  };
  return kModels;
}

std::filesystem::path ParityModelsDir() {
  return dim::testing::SourceRoot() / "tests" / "parity" / "models";
}

// A JSON array of equally long number arrays as a Matrix.
Matrix ToMatrix(const nlohmann::json& rows) {
  if (!rows.is_array() || rows.empty() || !rows[0].is_array()) {
    ADD_FAILURE() << "expected a non-empty array of rows";
    return {};
  }
  Matrix matrix(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows[0].size()));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != rows[0].size()) {
      ADD_FAILURE() << "row " << r << " has " << rows[r].size() << " values, not "
                    << rows[0].size();
      return {};
    }
    for (std::size_t c = 0; c < rows[r].size(); ++c) {
      matrix(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = rows[r][c].get<float>();
    }
  }
  return matrix;
}

struct Reference {
  Matrix input;
  Matrix output;
};

::testing::AssertionResult ReadReference(const std::filesystem::path& path, Reference& reference) {
  std::ifstream in(path);
  if (!in) return ::testing::AssertionFailure() << "cannot open " << path;
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.contains("input") || !json.contains("output")) {
    return ::testing::AssertionFailure() << path << R"( is not {"input": ..., "output": ...})";
  }
  reference.input = ToMatrix(json["input"]);
  reference.output = ToMatrix(json["output"]);
  return ::testing::AssertionSuccess();
}

// Success when every value of actual is within tolerance of expected; otherwise names the
// worst value. Reports the largest absolute error either way.
::testing::AssertionResult MatchesTorch(const Matrix& actual, const Matrix& expected) {
  if (actual.rows() != expected.rows() || actual.cols() != expected.cols()) {
    return ::testing::AssertionFailure()
           << "shape " << actual.rows() << "x" << actual.cols() << ", torch has " << expected.rows()
           << "x" << expected.cols();
  }
  double max_error = 0.0;
  int failures = 0;
  ::testing::AssertionResult result = ::testing::AssertionSuccess();
  for (Eigen::Index r = 0; r < expected.rows(); ++r) {
    for (Eigen::Index c = 0; c < expected.cols(); ++c) {
      const double want = expected(r, c);
      const double got = actual(r, c);
      const double error = std::abs(got - want);
      max_error = std::max(max_error, error);
      if (!(error <= kAbsoluteTolerance + kRelativeTolerance * std::abs(want))) {
        if (failures++ == 0) result = ::testing::AssertionFailure();
        if (failures <= 5) {
          result << "(" << r << ", " << c << "): dim " << got << ", torch " << want << "; ";
        }
      }
    }
  }
  if (failures > 0) result << failures << " values out of tolerance; ";
  result << "max |dim - torch| = " << max_error;
  return result;
}

class PytorchParityTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::filesystem::path onnx = ParityModelsDir() / (GetParam() + ".onnx");
    ASSERT_TRUE(std::filesystem::exists(onnx))
        << "set DIM_SOURCE_ROOT to the source tree (looked for " << onnx << ")";
    auto model = Model::LoadFile(onnx);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    model_ = *model;
    ASSERT_TRUE(ReadReference(ParityModelsDir() / (GetParam() + ".json"), reference_));
    ASSERT_GT(reference_.input.rows(), 1);
  }

  std::shared_ptr<const Model> model_;
  Reference reference_;
};

TEST_P(PytorchParityTest, BatchMatchesTorch) {
  auto output = model_->Run(reference_.input);
  ASSERT_TRUE(output.ok()) << output.status().ToString();
  const ::testing::AssertionResult match = MatchesTorch(*output, reference_.output);
  EXPECT_TRUE(match);
  RecordProperty("max_error", match.message());
}

TEST_P(PytorchParityTest, SingleRowMatchesBatchRowZero) {
  auto batch = model_->Run(reference_.input);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  const Matrix first_row = reference_.input.topRows(1);
  auto single = model_->Run(first_row);
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  const Matrix batch_row_zero = batch->topRows(1);
  EXPECT_TRUE(MatchesTorch(*single, batch_row_zero));
  EXPECT_TRUE(MatchesTorch(*single, reference_.output.topRows(1)));
}

INSTANTIATE_TEST_SUITE_P(Models, PytorchParityTest, ::testing::ValuesIn(ExpectedModels()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(PytorchParity, FolderHoldsExactlyTheExpectedModels) {
  const std::filesystem::path dir = ParityModelsDir();
  ASSERT_TRUE(std::filesystem::is_directory(dir))
      << "set DIM_SOURCE_ROOT to the source tree (looked for " << dir << ")";
  std::vector<std::string> onnx_names;
  std::vector<std::string> json_names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::filesystem::path& path = entry.path();
    if (path.extension() == ".onnx") onnx_names.push_back(path.stem().string());
    if (path.extension() == ".json") json_names.push_back(path.stem().string());
  }
  std::sort(onnx_names.begin(), onnx_names.end());
  std::sort(json_names.begin(), json_names.end());
  EXPECT_EQ(onnx_names, ExpectedModels());
  EXPECT_EQ(json_names, ExpectedModels());
}

}  // namespace
}  // namespace dim::core
