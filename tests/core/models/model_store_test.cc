#include "core/models/model_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/sha256.h"
#include "tests/core/test_support.h"

namespace dim::core {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using dim::testing::ExampleModelExists;
using dim::testing::ExampleModelsDir;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> Names(const std::vector<StoredModel>& models) {
  std::vector<std::string> names;
  for (const auto& m : models) names.push_back(m.name);
  return names;
}

class ModelStoreTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ExampleModelExists("heart_mlp"));
    mlp_ = ReadAll(ExampleModelsDir() / "heart_mlp.onnx");
    risk_ = ReadAll(ExampleModelsDir() / "heart_risk.onnx");
    store_ = OpenStore();
  }

  std::unique_ptr<ModelStore> OpenStore(int64_t max_bytes = int64_t{1} << 30) {
    auto store = ModelStore::Open(dir_ / "store", clock_, ModelStoreOptions{max_bytes});
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // Pushes `bytes` in pieces of `piece` bytes.
  Result<StoredModel> Push(ModelStore& store, const std::string& name, const std::string& bytes,
                           size_t piece = 100, const std::string& sha = "") {
    DIM_ASSIGN_OR_RETURN(auto upload, store.BeginUpload(name));
    for (size_t at = 0; at < bytes.size(); at += piece) {
      DIM_RETURN_IF_ERROR(upload->Append(std::string_view(bytes).substr(at, piece)));
    }
    return upload->Commit(sha);
  }

  // Files under DIR/tmp: uploads leave none behind.
  std::vector<std::string> TempFiles() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ / "store" / "tmp")) {
      names.push_back(e.path().filename().string());
    }
    return names;
  }

  SystemClock clock_;
  std::string mlp_, risk_;
  std::unique_ptr<ModelStore> store_;
};

TEST_F(ModelStoreTest, PushedModelIsKeptByContentAndListedByName) {
  auto pushed = Push(*store_, "heart_mlp", mlp_);
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  EXPECT_EQ(pushed->name, "heart_mlp");
  EXPECT_EQ(pushed->sha256, Sha256Hex(mlp_));
  EXPECT_EQ(pushed->size_bytes, static_cast<int64_t>(mlp_.size()));
  EXPECT_FALSE(pushed->pushed_at.empty());
  EXPECT_EQ(ReadAll(store_->BlobPath(pushed->sha256)), mlp_);
  EXPECT_EQ(store_->BlobPath(pushed->sha256), dir_ / "store" / "blobs" / pushed->sha256);

  ASSERT_TRUE(Push(*store_, "a_risk", risk_).ok());
  EXPECT_THAT(Names(store_->List()), ElementsAre("a_risk", "heart_mlp"));
  auto by_name = store_->Find("heart_mlp");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->sha256, pushed->sha256);
  auto by_digest = store_->Find("sha256:" + pushed->sha256);
  ASSERT_TRUE(by_digest.ok()) << by_digest.status().ToString();
  EXPECT_EQ(by_digest->name, "heart_mlp");
  EXPECT_TRUE(store_->Has("heart_mlp"));
  EXPECT_THAT(TempFiles(), IsEmpty());
}

TEST_F(ModelStoreTest, UnknownOrMalformedIdsAreRefused) {
  auto missing = store_->Find("ghost");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("model 'ghost' not found"));
  EXPECT_EQ(store_->Find("sha256:" + std::string(64, '0')).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Find("../x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(store_->Has("ghost"));
  auto bad = store_->BeginUpload("a/b");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("not a plain name"));
}

TEST_F(ModelStoreTest, PushingANameAgainPointsItAtTheNewContent) {
  auto first = Push(*store_, "m", risk_);
  ASSERT_TRUE(first.ok());
  auto second = Push(*store_, "m", mlp_);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(store_->Find("m")->sha256, Sha256Hex(mlp_));
  EXPECT_THAT(Names(store_->List()), ElementsAre("m"));
  // The old content can still be fetched by its digest; no name points at it.
  auto old = store_->Find("sha256:" + first->sha256);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->name, "");
  EXPECT_EQ(old->size_bytes, static_cast<int64_t>(risk_.size()));
}

TEST_F(ModelStoreTest, CorruptModelIsInvalidArgumentWithTheLoadersMessage) {
  auto corrupt = Push(*store_, "broken", "this is not an ONNX file \xff\xfe\xfd");
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(corrupt.status().message(), HasSubstr("model 'broken'"));
  // Cut short: a truncated protobuf.
  auto truncated = Push(*store_, "half", mlp_.substr(0, mlp_.size() / 2));
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
  auto empty = Push(*store_, "empty", "");
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(empty.status().message(), HasSubstr("empty"));
  EXPECT_THAT(store_->List(), IsEmpty());
  EXPECT_THAT(TempFiles(), IsEmpty());
}

TEST_F(ModelStoreTest, PushPastTheSizeLimitIsResourceExhausted) {
  auto store = OpenStore(1000);
  auto big = Push(*store, "heart_mlp", mlp_);  // 2131 bytes
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(big.status().message(), HasSubstr("limit of 1000 bytes"));
  EXPECT_TRUE(Push(*store, "heart_risk", risk_).ok());  // 509 bytes
}

TEST_F(ModelStoreTest, ClientDigestThatDiffersIsDataLoss) {
  auto pushed = Push(*store_, "m", mlp_, 100, Sha256Hex(risk_));
  ASSERT_FALSE(pushed.ok());
  EXPECT_EQ(pushed.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(pushed.status().message(), HasSubstr(Sha256Hex(mlp_)));
  EXPECT_FALSE(store_->Has("m"));
  EXPECT_TRUE(Push(*store_, "m", mlp_, 100, Sha256Hex(mlp_)).ok());
}

TEST_F(ModelStoreTest, AnUnfinishedUploadLeavesNothing) {
  {
    auto upload = store_->BeginUpload("m");
    ASSERT_TRUE(upload.ok());
    ASSERT_TRUE((*upload)->Append(mlp_.substr(0, 50)).ok());
    EXPECT_THAT(TempFiles(), ::testing::SizeIs(1));
  }
  EXPECT_THAT(TempFiles(), IsEmpty());
  EXPECT_FALSE(store_->Has("m"));
}

TEST_F(ModelStoreTest, TheIndexSurvivesARestart) {
  ASSERT_TRUE(Push(*store_, "heart_mlp", mlp_).ok());
  ASSERT_TRUE(Push(*store_, "heart_risk", risk_).ok());
  const auto before = store_->List();
  store_.reset();
  dim::testing::WriteFile(dir_ / "store" / "tmp" / "push-leftover.tmp", "half a push");
  auto reopened = OpenStore();
  const auto after = reopened->List();
  ASSERT_EQ(after.size(), 2u);
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].name, before[i].name);
    EXPECT_EQ(after[i].sha256, before[i].sha256);
    EXPECT_EQ(after[i].size_bytes, before[i].size_bytes);
    EXPECT_EQ(after[i].pushed_at, before[i].pushed_at);
  }
  EXPECT_THAT(TempFiles(), IsEmpty());

  // A model whose content went missing is dropped, not served.
  fs::remove(reopened->BlobPath(Sha256Hex(risk_)));
  reopened.reset();
  EXPECT_THAT(Names(OpenStore()->List()), ElementsAre("heart_mlp"));
}

TEST_F(ModelStoreTest, AnIndexThatIsNotOneIsDataLoss) {
  store_.reset();
  dim::testing::WriteFile(dir_ / "store" / "index.json", "{\"models\": 7}");
  auto store = ModelStore::Open(dir_ / "store", clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(), HasSubstr("index.json"));
}

}  // namespace
}  // namespace dim::core
