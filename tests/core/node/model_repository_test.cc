#include "core/node/model_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

fs::path ModelsDir() {
  const char* root = std::getenv("DIM_SOURCE_ROOT");
  return (root != nullptr ? fs::path(root) : fs::path(".")) / "examples" / "models";
}

class ModelRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(ModelsDir() / "heart_risk.onnx"))
        << "set DIM_SOURCE_ROOT to the source tree (looked in " << ModelsDir() << ")";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("model_repository_test_") + info->name() + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Write(const std::string& name, const std::string& content) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << content;
  }

  fs::path dir_;
};

TEST_F(ModelRepositoryTest, ListsTheExampleModelsSorted) {
  ModelRepository repo(ModelsDir());
  EXPECT_THAT(repo.List(), ElementsAre("heart_mlp", "heart_risk"));
  EXPECT_EQ(repo.dir(), ModelsDir());
}

TEST_F(ModelRepositoryTest, ListTakesOnlyOnnxFiles) {
  fs::copy_file(ModelsDir() / "heart_risk.onnx", dir_ / "zeta.onnx");
  fs::copy_file(ModelsDir() / "heart_risk.onnx", dir_ / "alpha.onnx");
  Write("readme.txt", "not a model");
  Write("alpha.onnx.bak", "old copy");
  fs::create_directories(dir_ / "folder.onnx");
  ModelRepository repo(dir_);
  EXPECT_THAT(repo.List(), ElementsAre("alpha", "zeta"));
}

TEST_F(ModelRepositoryTest, ListOfAMissingFolderIsEmpty) {
  ModelRepository repo(dir_ / "nowhere");
  EXPECT_THAT(repo.List(), IsEmpty());
}

TEST_F(ModelRepositoryTest, GetLoadsTheModel) {
  ModelRepository repo(ModelsDir());
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
  ModelRepository repo(ModelsDir());
  auto first = repo.Get("heart_mlp");
  auto second = repo.Get("heart_mlp");
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(first->get(), second->get());
}

TEST_F(ModelRepositoryTest, GetReloadsAModelWhoseFileChanged) {
  fs::copy_file(ModelsDir() / "heart_risk.onnx", dir_ / "m.onnx");
  ModelRepository repo(dir_);
  auto first = repo.Get("m");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)->output_width(), 1);

  // Replace it by the 3-output model with another modification time.
  fs::copy_file(ModelsDir() / "heart_mlp.onnx", dir_ / "m.onnx",
                fs::copy_options::overwrite_existing);
  fs::last_write_time(dir_ / "m.onnx",
                      fs::last_write_time(dir_ / "m.onnx") + std::chrono::seconds(5));
  auto second = repo.Get("m");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_NE(first->get(), second->get());
  EXPECT_EQ((*second)->output_width(), 3);
}

TEST_F(ModelRepositoryTest, MissingModelIsNotFoundNamingIdAndFolder) {
  ModelRepository repo(dir_);
  auto model = repo.Get("ghost");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(model.status().message(), HasSubstr("'ghost'"));
  EXPECT_THAT(model.status().message(), HasSubstr(dir_.string()));
}

TEST_F(ModelRepositoryTest, IdThatIsNotAPlainNameIsInvalidArgument) {
  // A real model one folder up must stay out of reach.
  fs::create_directories(dir_ / "models");
  fs::copy_file(ModelsDir() / "heart_risk.onnx", dir_ / "outside.onnx");
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
  fs::copy_file(ModelsDir() / "heart_risk.onnx", dir_ / "risk-v1.2_final.onnx");
  ModelRepository repo(dir_);
  auto model = repo.Get("risk-v1.2_final");
  EXPECT_TRUE(model.ok()) << model.status().ToString();
}

TEST_F(ModelRepositoryTest, CorruptModelIsInvalidArgument) {
  Write("broken.onnx", "this is not a protobuf \xff\xff\xff");
  ModelRepository repo(dir_);
  auto model = repo.Get("broken");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ModelRepositoryTest, ConcurrentGetsAgreeOnTheModel) {
  ModelRepository repo(ModelsDir());
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
