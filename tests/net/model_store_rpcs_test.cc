// PushModel, ListModels and FetchModel over a real gRPC connection: ModelStoreRpcs on the
// server side, ModelStoreClient on the client side, and a daemon's cache fetching through it.
#include "net/model_store_rpcs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/node/model_repository.h"
#include "core/sha256.h"
#include "net/model_store_client.h"
#include "net/server_runner.h"
#include "tests/core/infer/onnx_test_model.h"
#include "tests/core/test_support.h"

namespace dim::net {
namespace {

namespace fs = std::filesystem;
namespace pb = dim::orchestrator;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

using dim::testing::ExampleModelExists;
using dim::testing::ExampleModelsDir;

// The Orchestrator service with only its model calls, as OrchestratorService forwards them.
class ModelsOnlyService final : public pb::Orchestrator::CallbackService {
 public:
  explicit ModelsOnlyService(core::ModelStore* store) : rpcs_(store) {}
  grpc::ServerReadReactor<pb::PushModelRequest>* PushModel(grpc::CallbackServerContext* ctx,
                                                           pb::PushModelResponse* resp) override {
    return rpcs_.Push(ctx, resp);
  }
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* ctx,
                                       const pb::ListModelsRequest* req,
                                       pb::ListModelsResponse* resp) override {
    return rpcs_.List(ctx, req, resp);
  }
  grpc::ServerWriteReactor<pb::ModelChunk>* FetchModel(grpc::CallbackServerContext* ctx,
                                                       const pb::FetchModelRequest* req) override {
    return rpcs_.Fetch(ctx, req);
  }

 private:
  ModelStoreRpcs rpcs_;
};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A model of about 2 MiB (a 730 x 730 MatMul), so that it travels in several messages.
std::string BigModel() {
  const int64_t n = 730;
  std::vector<float> weights(static_cast<size_t>(n * n));
  for (size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<float>(i % 97) / 97.0f;
  core::testing::OnnxModelBuilder b;
  b.Input("x", {core::testing::kBatch, n}).Output("y");
  b.RawInitializer("w", {n, n}, weights);
  b.Node("MatMul", {"x", "w"}, {"y"});
  return b.Bytes();
}

class ModelStoreRpcsTest : public dim::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ExampleModelExists("heart_mlp"));
    auto store = core::ModelStore::Open(dir_ / "store", clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    Serve(store_.get());
  }
  void TearDown() override {
    if (server_.server) server_.server->Shutdown();
  }

  void Serve(core::ModelStore* store) {
    service_ = std::make_unique<ModelsOnlyService>(store);
    auto server = StartServer("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    client_ = std::make_unique<ModelStoreClient>(server_.address);
  }

  core::SystemClock clock_;
  std::unique_ptr<core::ModelStore> store_;
  std::unique_ptr<ModelsOnlyService> service_;
  RunningServer server_;
  std::unique_ptr<ModelStoreClient> client_;
};

TEST_F(ModelStoreRpcsTest, PushListAndFetchAModel) {
  const std::string bytes = ReadAll(ExampleModelsDir() / "heart_mlp.onnx");
  auto pushed = client_->Push("heart_mlp", ExampleModelsDir() / "heart_mlp.onnx");
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  EXPECT_EQ(pushed->name, "heart_mlp");
  EXPECT_EQ(pushed->sha256, core::Sha256Hex(bytes));
  EXPECT_EQ(pushed->size_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_FALSE(pushed->pushed_at.empty());

  auto listed = client_->List();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].sha256, pushed->sha256);
  EXPECT_EQ((*listed)[0].pushed_at, pushed->pushed_at);

  auto header = client_->Resolve("sha256:" + pushed->sha256);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->name, "heart_mlp");
  EXPECT_EQ(header->size_bytes, pushed->size_bytes);

  std::vector<std::string> events;
  std::string got;
  core::Status fetched = client_->Fetch(
      "heart_mlp",
      [&](const core::ModelHeader& h) {
        events.push_back("header " + h.name + " " + h.sha256 + " " + std::to_string(h.size_bytes));
        return core::Status::Ok();
      },
      [&](std::string_view data) {
        events.push_back("data");
        got += data;
        return core::Status::Ok();
      });
  ASSERT_TRUE(fetched.ok()) << fetched.ToString();
  EXPECT_EQ(got, bytes);
  EXPECT_THAT(events,
              ElementsAre("header heart_mlp " + pushed->sha256 + " " + std::to_string(bytes.size()),
                          "data"));
}

TEST_F(ModelStoreRpcsTest, ABigModelTravelsInSeveralMessages) {
  const std::string bytes = BigModel();
  ASSERT_GT(bytes.size(), 2 * kModelChunkBytes);
  const auto file = Write("big.onnx", bytes);
  auto pushed = client_->Push("big", file);
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  EXPECT_EQ(pushed->sha256, core::Sha256Hex(bytes));
  EXPECT_EQ(ReadAll(store_->BlobPath(pushed->sha256)), bytes);

  int pieces = 0;
  std::string got;
  ASSERT_TRUE(client_
                  ->Fetch(
                      "big", [](const core::ModelHeader&) { return core::Status::Ok(); },
                      [&](std::string_view data) {
                        ++pieces;
                        got += data;
                        return core::Status::Ok();
                      })
                  .ok());
  EXPECT_EQ(got, bytes);
  EXPECT_EQ(pieces, 3);
}

TEST_F(ModelStoreRpcsTest, BadPushesGetTheStoresError) {
  auto corrupt = client_->Push("broken", Write("broken.onnx", "not a model \xff\xfe"));
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(corrupt.status().message(), HasSubstr("model 'broken'"));

  auto bad_name = client_->Push("a b", ExampleModelsDir() / "heart_mlp.onnx");
  EXPECT_EQ(bad_name.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_name.status().message(), HasSubstr("not a plain name"));

  auto no_file = client_->Push("x", dir_ / "missing.onnx");
  EXPECT_EQ(no_file.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_THAT(no_file.status().message(), HasSubstr("missing.onnx"));

  auto listed = client_->List();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
}

TEST_F(ModelStoreRpcsTest, UnknownModelIsNotFound) {
  EXPECT_EQ(client_->Resolve("ghost").status().code(), core::StatusCode::kNotFound);
  core::Status fetched = client_->Fetch(
      "ghost", [](const core::ModelHeader&) { return core::Status::Ok(); },
      [](std::string_view) { return core::Status::Ok(); });
  EXPECT_EQ(fetched.code(), core::StatusCode::kNotFound);
  EXPECT_THAT(fetched.message(), HasSubstr("model 'ghost' not found"));
  EXPECT_EQ(client_->Resolve("../ghost").status().code(), core::StatusCode::kInvalidArgument);
}

TEST_F(ModelStoreRpcsTest, ACallbackErrorStopsTheFetch) {
  ASSERT_TRUE(client_->Push("big", Write("big.onnx", BigModel())).ok());
  int pieces = 0;
  core::Status fetched = client_->Fetch(
      "big", [](const core::ModelHeader&) { return core::Status::Ok(); },
      [&](std::string_view) {
        ++pieces;
        return core::Status(core::StatusCode::kDataLoss, "enough");
      });
  EXPECT_EQ(fetched.code(), core::StatusCode::kDataLoss);
  EXPECT_EQ(pieces, 1);
}

TEST_F(ModelStoreRpcsTest, ADaemonCacheFetchesThroughTheClient) {
  ASSERT_TRUE(client_->Push("heart_mlp", ExampleModelsDir() / "heart_mlp.onnx").ok());
  core::ModelCacheOptions options;
  options.fetcher = client_.get();
  core::ModelRepository repo(dir_ / "cache", core::Device::kCpu, options);
  auto model = repo.Get("heart_mlp");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->output_width(), 3);
  EXPECT_EQ(ReadAll(dir_ / "cache" / "heart_mlp.onnx"),
            ReadAll(ExampleModelsDir() / "heart_mlp.onnx"));
  auto missing = repo.Get("ghost");
  EXPECT_EQ(missing.status().code(), core::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("cannot fetch model 'ghost' from orchestrator " + server_.address));
}

TEST_F(ModelStoreRpcsTest, AnUnreachableOrchestratorIsUnavailable) {
  server_.server->Shutdown();
  server_.server.reset();
  auto listed = client_->List();
  EXPECT_EQ(listed.status().code(), core::StatusCode::kUnavailable);
  EXPECT_THAT(listed.status().message(), HasSubstr("cannot reach the orchestrator at"));
}

TEST(ModelStoreRpcs, WithoutAStoreEveryCallIsUnimplemented) {
  ModelsOnlyService service(nullptr);
  auto server = StartServer("127.0.0.1:0", {&service});
  ASSERT_TRUE(server.ok());
  ModelStoreClient client(server->address);
  EXPECT_EQ(client.List().status().code(), core::StatusCode::kUnimplemented);
  EXPECT_EQ(client.Resolve("m").status().code(), core::StatusCode::kUnimplemented);
  EXPECT_EQ(client.Push("m", ExampleModelsDir() / "heart_mlp.onnx").status().code(),
            core::StatusCode::kUnimplemented);
  server->server->Shutdown();
}

}  // namespace
}  // namespace dim::net
