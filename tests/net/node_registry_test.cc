// NodeRegistry's static nodes over real gRPC: what their DescribeNode tells the orchestrator.
#include "net/node_registry.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/node/task_queue.h"
#include "core/patterns/node_runs.h"
#include "net/daemon_service.h"
#include "net/server_runner.h"
#include "tests/core/node/fake_model_fetcher.h"
#include "tests/core/test_support.h"

namespace dim::net {
namespace {

using dim::testing::ExampleDataFile;
using dim::testing::ExampleModelsDir;

// A daemon on a loopback port, fetching missing models from `fetcher` when given one (as
// `dim daemon serve --orchestrator` does).
struct Daemon {
  static core::ModelCacheOptions CacheOptions(core::ModelFetcher* fetcher) {
    core::ModelCacheOptions options;
    options.fetcher = fetcher;
    return options;
  }

  explicit Daemon(core::ModelFetcher* fetcher)
      : models(ExampleModelsDir(), core::Device::kCpu, CacheOptions(fetcher)) {
    EXPECT_TRUE(datasets.Add("a", ExampleDataFile("hospital_a.csv")).ok());
    tasks = std::make_unique<core::TaskQueue>(models, datasets, clock, core::TaskQueueOptions{});
    service = std::make_unique<DaemonService>("n", models, datasets, *tasks, 2);
    auto started = StartServer("127.0.0.1:0", {service.get()});
    EXPECT_TRUE(started.ok()) << started.status().ToString();
    if (started.ok()) server = std::move(*started);
  }
  ~Daemon() {
    if (server.server) server.server->Shutdown(std::chrono::system_clock::now());
  }

  core::SystemClock clock;
  core::ModelRepository models;
  core::DatasetCatalog datasets;
  std::unique_ptr<core::TaskQueue> tasks;
  std::unique_ptr<DaemonService> service;
  RunningServer server;
};

TEST(NodeRegistry, AStaticDaemonThatFetchesModelsMayBeGivenTheStoresModels) {
  dim::testing::FakeModelFetcher fetcher;
  Daemon fetching(&fetcher);
  Daemon plain(nullptr);
  core::SystemClock clock;
  NodeRegistryOptions options;
  options.model_in_store = [](const std::string& id) { return id == "stored_model"; };
  NodeRegistry registry(clock, options);
  ASSERT_TRUE(registry.AddStatic("fetching", fetching.server.address).ok());
  ASSERT_TRUE(registry.AddStatic("plain", plain.server.address).ok());
  registry.Start();
  const auto nodes = registry.Describe();
  registry.Stop();
  ASSERT_EQ(nodes.size(), 2u);
  ASSERT_EQ(nodes[0].id, "fetching");
  EXPECT_TRUE(nodes[0].described);
  EXPECT_TRUE(core::HoldsModel(nodes[0], "stored_model"));
  EXPECT_FALSE(core::HoldsModel(nodes[0], "not_in_the_store"));
  EXPECT_TRUE(core::HoldsModel(nodes[0], "heart_mlp"));  // its own folder's
  ASSERT_EQ(nodes[1].id, "plain");
  EXPECT_TRUE(nodes[1].described);
  EXPECT_FALSE(core::HoldsModel(nodes[1], "stored_model"));
  EXPECT_TRUE(core::HoldsModel(nodes[1], "heart_mlp"));
}

}  // namespace
}  // namespace dim::net
