#include "core/models/model_folder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "core/sha256.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using dim::testing::ExampleModelExists;
using dim::testing::ExampleModelsDir;

class ModelFolderTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override { ASSERT_TRUE(ExampleModelExists("heart_mlp")); }
  SystemClock clock_;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST_F(ModelFolderTest, InstallCopiesACheckedModelUnderItsName) {
  const auto models = dir_ / "models";
  auto installed = InstallModelFile(models, "risk", ExampleModelsDir() / "heart_risk.onnx", clock_);
  ASSERT_TRUE(installed.ok()) << installed.status().ToString();
  const std::string bytes = ReadAll(ExampleModelsDir() / "heart_risk.onnx");
  EXPECT_EQ(ReadAll(models / "risk.onnx"), bytes);
  EXPECT_EQ(installed->name, "risk");
  EXPECT_EQ(installed->sha256, Sha256Hex(bytes));
  EXPECT_EQ(installed->size_bytes, static_cast<int64_t>(bytes.size()));

  ASSERT_TRUE(InstallModelFile(models, "mlp", ExampleModelsDir() / "heart_mlp.onnx", clock_).ok());
  dim::testing::WriteFile(models / "notes.txt", "not a model");
  const auto listed = ListModelFolder(models);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "mlp");
  EXPECT_EQ(listed[1].name, "risk");
  EXPECT_EQ(listed[1].sha256, Sha256Hex(bytes));
  EXPECT_EQ(listed[1].size_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(listed[1].pushed_at.size(), 24u);  // ISO 8601 with milliseconds
}

TEST_F(ModelFolderTest, InstallRefusesWhatCannotRunAndWritesNothing) {
  const auto models = dir_ / "models";
  const auto junk = Write("junk.onnx", "not a model at all \xff");
  auto corrupt = InstallModelFile(models, "junk", junk, clock_);
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(corrupt.status().message(), HasSubstr("model 'junk'"));
  auto missing = InstallModelFile(models, "x", dir_ / "nowhere.onnx", clock_);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("no such file"));
  auto bad_name = InstallModelFile(models, "../x", ExampleModelsDir() / "heart_mlp.onnx", clock_);
  EXPECT_EQ(bad_name.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(ListModelFolder(models), IsEmpty());
}

}  // namespace
}  // namespace dim::core
