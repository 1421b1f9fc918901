#include "core/node/model_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "core/models/model_cache_index.h"
#include "core/sha256.h"
#include "tests/core/node/fake_model_fetcher.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using namespace std::chrono_literals;

using dim::testing::ExampleModelExists;
using dim::testing::ExampleModelsDir;

// The committed example models, and a fresh directory per test (dir_).
class ModelRepositoryTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override { ASSERT_TRUE(ExampleModelExists("heart_risk")); }
};

TEST_F(ModelRepositoryTest, ListsTheExampleModelsSorted) {
  ModelRepository repo(ExampleModelsDir());
  EXPECT_THAT(repo.List(), ElementsAre("heart_mlp", "heart_mlp_v2", "heart_mlp_v3", "heart_risk",
                                       "heart_score"));
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


// The folder as a cache: models fetched from a (fake) store on first use.
class ModelCacheTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ExampleModelExists("heart_mlp"));
    mlp_ = ReadAll(ExampleModelsDir() / "heart_mlp.onnx");
    risk_ = ReadAll(ExampleModelsDir() / "heart_risk.onnx");
    cache_ = dir_ / "cache";
  }

  static std::string ReadAll(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  ModelCacheOptions Options(int64_t max_bytes = 0) {
    ModelCacheOptions options;
    options.fetcher = &store_;
    options.max_bytes = max_bytes;
    options.on_event = [this](const ModelCacheEvent& e) { events_.push_back(e); };
    return options;
  }

  int Count(ModelCacheEvent::Kind kind) const {
    return static_cast<int>(std::count_if(events_.begin(), events_.end(),
                                          [&](const ModelCacheEvent& e) { return e.kind == kind; }));
  }

  // The folder's entries other than the cache's record.
  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::recursive_directory_iterator(cache_)) {
      if (e.is_regular_file() && e.path().filename() != ModelCacheIndex::kFileName) {
        names.push_back(fs::relative(e.path(), cache_).string());
      }
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  dim::testing::FakeModelFetcher store_;
  std::vector<ModelCacheEvent> events_;
  std::string mlp_, risk_;
  fs::path cache_;
};

TEST_F(ModelCacheTest, MissingModelIsFetchedOnFirstUseAndKept) {
  store_.Add("heart_mlp", mlp_);
  ModelRepository repo(cache_, Device::kCpu, Options());
  auto model = repo.Get("heart_mlp");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->output_width(), 3);
  EXPECT_EQ(ReadAll(cache_ / "heart_mlp.onnx"), mlp_);
  EXPECT_THAT(Files(), ElementsAre("heart_mlp.onnx"));
  EXPECT_THAT(repo.List(), ElementsAre("heart_mlp"));
  EXPECT_EQ(store_.fetches(), 1);

  // Again: from the folder (the store is only asked whether the name still means it).
  auto again = repo.Get("heart_mlp");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), model->get());
  EXPECT_EQ(store_.fetches(), 1);
  const ModelCacheStats stats = repo.Stats();
  EXPECT_EQ(stats.models, 1);
  EXPECT_EQ(stats.total_bytes, static_cast<int64_t>(mlp_.size()));
  EXPECT_EQ(stats.fetched_models, 1);
  EXPECT_EQ(stats.fetched_bytes, static_cast<int64_t>(mlp_.size()));
  EXPECT_EQ(stats.misses, 1);
  EXPECT_EQ(stats.hits, 1);
  EXPECT_EQ(Count(ModelCacheEvent::Kind::kFetched), 1);
}

TEST_F(ModelCacheTest, ModelTheStoreLacksIsTheStoresNotFound) {
  ModelRepository repo(cache_, Device::kCpu, Options());
  auto model = repo.Get("ghost");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(model.status().message(), HasSubstr("cannot fetch model 'ghost' from fake store"));
  EXPECT_EQ(repo.Stats().fetch_failures, 1);
}

TEST_F(ModelCacheTest, Sha256MismatchFailsNamingBothDigestsAndKeepsNothing) {
  store_.Add("heart_mlp", mlp_);
  store_.Corrupt("heart_mlp");
  ModelRepository repo(cache_, Device::kCpu, Options());
  auto model = repo.Get("heart_mlp");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kDataLoss);
  std::string corrupted = mlp_;
  corrupted[0] = static_cast<char>(corrupted[0] ^ 0x5a);
  EXPECT_THAT(model.status().message(),
              HasSubstr("model 'heart_mlp' from fake store has sha256 " + Sha256Hex(corrupted) +
                        ", expected " + Sha256Hex(mlp_)));
  EXPECT_THAT(Files(), IsEmpty());  // no model, no temporary file
  EXPECT_THAT(repo.List(), IsEmpty());
  EXPECT_EQ(repo.Stats().fetch_failures, 1);
  EXPECT_EQ(Count(ModelCacheEvent::Kind::kFetchFailed), 1);
}

TEST_F(ModelCacheTest, FetchedFileThatDoesNotLoadIsRefusedAndNotKept) {
  store_.Add("junk", "not an onnx model \xff\xfe");
  ModelRepository repo(cache_, Device::kCpu, Options());
  auto model = repo.Get("junk");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(model.status().message(), HasSubstr("model 'junk'"));
  EXPECT_THAT(Files(), IsEmpty());
}

TEST_F(ModelCacheTest, ConcurrentGetsOfAMissingModelFetchItOnce) {
  store_.Add("heart_mlp", mlp_);
  store_.Hold();
  ModelRepository repo(cache_, Device::kCpu, Options());
  std::vector<std::shared_ptr<const Model>> got(6);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      auto m = repo.Get("heart_mlp");
      if (m.ok()) got[i] = *m;
    });
  }
  // One fetch is under way; let the other Gets pile up behind it, then let it finish.
  while (store_.waiting() == 0) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(50ms);
  store_.Release();
  for (auto& t : threads) t.join();
  EXPECT_EQ(store_.fetches(), 1);
  for (const auto& m : got) {
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m.get(), got[0].get());
  }
}

TEST_F(ModelCacheTest, LeastRecentlyUsedFetchedModelIsEvictedFirst) {
  for (const char* name : {"a", "b", "c"}) store_.Add(name, risk_);
  const int64_t size = static_cast<int64_t>(risk_.size());
  ModelRepository repo(cache_, Device::kCpu, Options(2 * size));  // room for two
  ASSERT_TRUE(repo.Get("a").ok());
  ASSERT_TRUE(repo.Get("b").ok());
  ASSERT_TRUE(repo.Get("a").ok());  // a is now more recent than b
  ASSERT_TRUE(repo.Get("c").ok());
  EXPECT_THAT(Files(), ElementsAre("a.onnx", "c.onnx"));
  const ModelCacheStats stats = repo.Stats();
  EXPECT_EQ(stats.evictions, 1);
  EXPECT_EQ(stats.fetched_bytes, 2 * size);
  EXPECT_EQ(stats.max_bytes, 2 * size);
  ASSERT_EQ(Count(ModelCacheEvent::Kind::kEvicted), 1);
  auto evicted = std::find_if(events_.begin(), events_.end(), [](const ModelCacheEvent& e) {
    return e.kind == ModelCacheEvent::Kind::kEvicted;
  });
  EXPECT_EQ(evicted->model_id, "b");

  // b is fetched again when used again, and a (now the least recent) goes.
  ASSERT_TRUE(repo.Get("b").ok());
  EXPECT_EQ(store_.fetches(), 4);
  EXPECT_THAT(Files(), ElementsAre("b.onnx", "c.onnx"));
}

TEST_F(ModelCacheTest, FilesPutThereByHandAreNeverEvictedNorCounted) {
  fs::create_directories(cache_);
  fs::copy_file(ExampleModelsDir() / "heart_mlp.onnx", cache_ / "mine.onnx");
  for (const char* name : {"a", "b"}) store_.Add(name, risk_);
  ModelRepository repo(cache_, Device::kCpu, Options(static_cast<int64_t>(risk_.size())));
  ASSERT_TRUE(repo.Get("a").ok());
  ASSERT_TRUE(repo.Get("b").ok());
  ASSERT_TRUE(repo.Get("mine").ok());
  EXPECT_THAT(Files(), ElementsAre("b.onnx", "mine.onnx"));
  const ModelCacheStats stats = repo.Stats();
  EXPECT_EQ(stats.models, 2);
  EXPECT_EQ(stats.total_bytes, static_cast<int64_t>(risk_.size() + mlp_.size()));
  EXPECT_EQ(stats.fetched_bytes, static_cast<int64_t>(risk_.size()));
}

TEST_F(ModelCacheTest, ModelLargerThanTheLimitIsNotFetched) {
  store_.Add("heart_mlp", mlp_);
  ModelRepository repo(cache_, Device::kCpu, Options(100));
  auto model = repo.Get("heart_mlp");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(model.status().message(), HasSubstr("--cache-max-bytes 100"));
  EXPECT_THAT(Files(), IsEmpty());
}

TEST_F(ModelCacheTest, AModelInUseKeepsWorkingWhenEvicted) {
  store_.Add("a", mlp_);
  store_.Add("b", mlp_);
  ModelRepository repo(cache_, Device::kCpu, Options(static_cast<int64_t>(mlp_.size())));
  auto a = repo.Get("a");
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(repo.Get("b").ok());  // evicts a
  ASSERT_FALSE(fs::exists(cache_ / "a.onnx"));
  Matrix rows = Matrix::Zero(2, 8);
  auto out = (*a)->Run(rows);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->cols(), 3);
}

TEST_F(ModelCacheTest, FetchedNameIsFetchedAgainWhenTheStoreChangedIt) {
  store_.Add("m", risk_);
  ModelRepository repo(cache_, Device::kCpu, Options());
  auto first = repo.Get("m");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)->output_width(), 1);
  store_.Add("m", mlp_);  // pushed again
  auto second = repo.Get("m");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ((*second)->output_width(), 3);
  EXPECT_EQ(ReadAll(cache_ / "m.onnx"), mlp_);
  EXPECT_EQ(Count(ModelCacheEvent::Kind::kStale), 1);
  // When the store cannot be reached, the copy here serves.
  store_.FailWith(Status::Unavailable("store down"));
  auto third = repo.Get("m");
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->get(), second->get());
}

TEST_F(ModelCacheTest, Sha256IdsAreFetchedByDigestAndFoundByContent) {
  const std::string id = "sha256:" + Sha256Hex(risk_);
  store_.Add("risk", risk_);
  ModelRepository repo(cache_, Device::kCpu, Options());
  auto model = repo.Get(id);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_THAT(Files(), ElementsAre(".sha256/" + Sha256Hex(risk_) + ".onnx"));
  EXPECT_THAT(repo.List(), ElementsAre(id));
  // Upper-case hex names the same content.
  std::string upper = id;
  std::transform(upper.begin() + 7, upper.end(), upper.begin() + 7, ::toupper);
  ASSERT_TRUE(repo.Get(upper).ok());
  EXPECT_EQ(store_.fetches(), 1);

  // Without a store, a file of the folder is found by its content.
  ModelRepository plain(ExampleModelsDir());
  auto local = plain.Get("sha256:" + Sha256Hex(mlp_));
  ASSERT_TRUE(local.ok()) << local.status().ToString();
  EXPECT_EQ((*local)->output_width(), 3);
  auto unknown = plain.Get("sha256:" + std::string(64, '0'));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(plain.Get("sha256:abc").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ModelCacheTest, CheckAvailableAcceptsAFetchableModelWithoutFetchingIt) {
  store_.Add("heart_mlp", mlp_);
  ModelRepository repo(cache_, Device::kCpu, Options());
  EXPECT_TRUE(repo.CheckAvailable("heart_mlp").ok());
  EXPECT_TRUE(repo.CheckAvailable("sha256:" + Sha256Hex(mlp_)).ok());
  EXPECT_EQ(store_.fetches(), 0);
  EXPECT_EQ(repo.CheckAvailable("../x").code(), StatusCode::kInvalidArgument);

  ModelRepository plain(dir_ / "empty");
  EXPECT_EQ(plain.CheckAvailable("heart_mlp").code(), StatusCode::kNotFound);
}

TEST_F(ModelCacheTest, TheRecordOfFetchedModelsOutlivesTheProcess) {
  for (const char* name : {"a", "b"}) store_.Add(name, risk_);
  const int64_t size = static_cast<int64_t>(risk_.size());
  {
    ModelRepository repo(cache_, Device::kCpu, Options());
    ASSERT_TRUE(repo.Get("a").ok());
    ASSERT_TRUE(repo.Get("b").ok());
  }
  // A half-done fetch of a process that died is cleared away.
  dim::testing::WriteFile(cache_ / ".dim-fetch-123-0.tmp", "partial");
  // Restarted with a smaller limit: the older of the two goes at once.
  ModelRepository repo(cache_, Device::kCpu, Options(size));
  EXPECT_THAT(Files(), ElementsAre("b.onnx"));
  EXPECT_EQ(repo.Stats().fetched_models, 1);
}

TEST_F(ModelCacheTest, WithoutAFetcherTheFolderIsNotWritten) {
  fs::create_directories(cache_);
  fs::copy_file(ExampleModelsDir() / "heart_mlp.onnx", cache_ / "m.onnx");
  ModelRepository repo(cache_);
  ASSERT_TRUE(repo.Get("m").ok());
  EXPECT_FALSE(fs::exists(cache_ / ModelCacheIndex::kFileName));
  EXPECT_FALSE(repo.can_fetch());
}

}  // namespace
}  // namespace dim::core
