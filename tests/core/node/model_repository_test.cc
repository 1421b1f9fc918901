#include "core/node/model_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using dim::testing::ExampleModelExists;
using dim::testing::ExampleModelsDir;

// The committed example models, and a fresh directory per test (dir_).
class ModelRepositoryTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override { ASSERT_TRUE(ExampleModelExists("heart_risk")); }
};

TEST_F(ModelRepositoryTest, ListsTheExampleModelsSorted) {
  ModelRepository repo(ExampleModelsDir());
  EXPECT_THAT(repo.List(), ElementsAre("heart_mlp", "heart_risk"));
  EXPECT_EQ(repo.dir(), ExampleModelsDir());
}

TEST_F(ModelRepositoryTest, ListTakesOnlyOnnxFiles) {
  fs::copy_file(ExampleModelsDir() / "heart_risk.onnx", dir_ / "zeta.onnx");
  fs::copy_file(ExampleModelsDir() / "heart_risk.onnx", dir_ / "alpha.onnx");
  Write("readme.txt", "not a model");
  Write("alpha.onnx.bak", "old copy");
  fs::create_directories(dir_ / "folder.onnx");
  ModelRepository repo(dir_.path());
  EXPECT_THAT(repo.List(), ElementsAre("alpha", "zeta"));
}

TEST_F(ModelRepositoryTest, ListOfAMissingFolderIsEmpty) {
  ModelRepository repo(dir_ / "nowhere");
  EXPECT_THAT(repo.List(), IsEmpty());
}

TEST_F(ModelRepositoryTest, GetLoadsTheModel) {
  ModelRepository repo(ExampleModelsDir());
  auto risk = repo.Get("heart_risk");
  ASSERT_TRUE(risk.ok()) << risk.status().ToString();
  EXPECT_EQ((*risk)->input_width(), 8);
  EXPECT_EQ((*risk)->output_width(), 1);
  auto mlp = repo.Get("heart_mlp");
  ASSERT_TRUE(mlp.ok()) << mlp.status().ToString();
  EXPECT_EQ((*mlp)->input_width(), 8);
  EXPECT_EQ((*mlp)->output_width(), 3);
}

TEST_F(ModelRepositoryTest, GetKeepsTheLoadedModel) {
  ModelRepository repo(ExampleModelsDir());
  auto first = repo.Get("heart_mlp");
  auto second = repo.Get("heart_mlp");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());
}

TEST_F(ModelRepositoryTest, GetReloadsAModelWhoseFileChanged) {
  fs::copy_file(ExampleModelsDir() / "heart_risk.onnx", dir_ / "m.onnx");
  ModelRepository repo(dir_.path());
  auto first = repo.Get("m");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)->output_width(), 1);

  // Replace it by the 3-output model with another modification time.
  fs::copy_file(ExampleModelsDir() / "heart_mlp.onnx", dir_ / "m.onnx",
                fs::copy_options::overwrite_existing);
  fs::last_write_time(dir_ / "m.onnx",
                      fs::last_write_time(dir_ / "m.onnx") + std::chrono::seconds(5));
  auto second = repo.Get("m");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(first->get(), second->get());
  EXPECT_EQ((*second)->output_width(), 3);
}

TEST_F(ModelRepositoryTest, MissingModelIsNotFoundNamingIdAndFolder) {
  ModelRepository repo(dir_.path());
  auto model = repo.Get("ghost");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(model.status().message(), HasSubstr("'ghost'"));
  EXPECT_THAT(model.status().message(), HasSubstr(dir_.path().string()));
}

TEST_F(ModelRepositoryTest, IdThatIsNotAPlainNameIsInvalidArgument) {
  // A real model one folder up must stay out of reach.
  fs::create_directories(dir_ / "models");
  fs::copy_file(ExampleModelsDir() / "heart_risk.onnx", dir_ / "outside.onnx");
  ModelRepository repo(dir_ / "models");
  const std::vector<std::string> ids = {
      "../outside", "a/b", "", ".", "..", "x y", "/etc/passwd", std::string(201, 'a')};
  for (const std::string& id : ids) {
    auto model = repo.Get(id);
    ASSERT_FALSE(model.ok()) << id;
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument) << id;
    EXPECT_THAT(model.status().message(), HasSubstr("plain name")) << id;
  }
}

TEST_F(ModelRepositoryTest, PlainNamesWithDotsDashesAndUnderscoresAreAccepted) {
  fs::copy_file(ExampleModelsDir() / "heart_risk.onnx", dir_ / "risk-v1.2_final.onnx");
  ModelRepository repo(dir_.path());
  auto model = repo.Get("risk-v1.2_final");
  EXPECT_TRUE(model.ok()) << model.status().ToString();
}

TEST_F(ModelRepositoryTest, CorruptModelIsInvalidArgument) {
  Write("broken.onnx", "this is not a protobuf \xff\xff\xff");
  ModelRepository repo(dir_.path());
  auto model = repo.Get("broken");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ModelRepositoryTest, ConcurrentGetsAgreeOnTheModel) {
  ModelRepository repo(ExampleModelsDir());
  std::vector<std::shared_ptr<const Model>> got(8);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      auto m = repo.Get("heart_mlp");
      if (m.ok()) got[i] = *m;
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& m : got) {
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->output_width(), 3);
  }
  // Once loaded, every later Get returns the kept one.
  auto later = repo.Get("heart_mlp");
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->get(), repo.Get("heart_mlp")->get());
}

}  // namespace
}  // namespace dim::core
