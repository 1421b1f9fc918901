// Parity on the committed ONNX-ML fixtures (tests/ml/fixtures, made by make_fixtures.py
// from scikit-learn and XGBoost models and their own predictions): for every fixture, dim's
// labels equal the library's exactly and its scores agree within the fixture's tolerance
// (|a - b| <= tol * (1 + |b|)). ONNX Runtime is checked against the same files by
// tests/ml/ort/parity.js, so the two agree with each other too.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/infer/model.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;

fs::path FixtureDir() {
  const char* root = std::getenv("DIM_SOURCE_ROOT");
  return fs::path(root == nullptr ? "." : root) / "tests" / "ml" / "fixtures";
}

std::vector<std::string> FixtureNames() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(FixtureDir(), ec)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

Matrix ReadInput(const nlohmann::json& rows) {
  const int64_t n = static_cast<int64_t>(rows.size());
  const int64_t width = n == 0 ? 0 : static_cast<int64_t>(rows[0].size());
  Matrix m(n, width);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t c = 0; c < width; ++c) {
      const nlohmann::json& v = rows[static_cast<size_t>(r)][static_cast<size_t>(c)];
      m(r, c) = v.is_null() ? std::numeric_limits<float>::quiet_NaN() : v.get<float>();
    }
  }
  return m;
}

class MlFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(MlFixtureTest, MatchesTheLibrarysPredictions) {
  const fs::path json_path = FixtureDir() / (GetParam() + ".json");
  std::ifstream in(json_path);
  ASSERT_TRUE(in) << json_path;
  const nlohmann::json fixture = nlohmann::json::parse(in);
  auto model = Model::LoadFile(FixtureDir() / fixture.at("model").get<std::string>());
  ASSERT_TRUE(model.ok()) << model.status().message();
  const Matrix input = ReadInput(fixture.at("input"));
  std::vector<int64_t> labels;
  auto output = (*model)->Run(input, &labels);
  ASSERT_TRUE(output.ok()) << output.status().message();
  const double tol = fixture.value("tolerance", 1e-5);
  const nlohmann::json& expected = fixture.at("outputs");

  if (expected.contains("label")) {
    ASSERT_TRUE((*model)->has_labels()) << "the model has no label output";
    const auto want = expected.at("label").get<std::vector<int64_t>>();
    ASSERT_EQ(labels.size(), want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      EXPECT_EQ(labels[r], want[r]) << "label of row " << r << " of " << json_path;
    }
  }
  const char* scores_key = expected.contains("probabilities") ? "probabilities" : "variable";
  const nlohmann::json& rows = expected.at(scores_key);
  ASSERT_EQ(output->rows(), static_cast<int64_t>(rows.size()));
  int failures = 0;
  for (int64_t r = 0; r < output->rows(); ++r) {
    ASSERT_EQ(output->cols(), static_cast<int64_t>(rows[static_cast<size_t>(r)].size()));
    for (int64_t c = 0; c < output->cols(); ++c) {
      const double want = rows[static_cast<size_t>(r)][static_cast<size_t>(c)].get<double>();
      const double got = (*output)(r, c);
      if (std::abs(got - want) > tol * (1 + std::abs(want)) && ++failures <= 5) {
        ADD_FAILURE() << scores_key << "[" << r << "][" << c << "] = " << got << ", expected "
                      << want << " (" << json_path.filename() << ")";
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, MlFixtureTest, ::testing::ValuesIn(FixtureNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(MlFixtureDir, HoldsTheFixtures) {
  EXPECT_GE(FixtureNames().size(), 20u)
      << "no fixtures under " << FixtureDir() << " (set DIM_SOURCE_ROOT to the source tree)";
}

}  // namespace
}  // namespace dim::core
