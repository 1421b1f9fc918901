// NodeRegistry's static nodes over real gRPC: what their DescribeNode tells the orchestrator.
#include "net/node_registry.h"

#include <gmock/gmock.h>
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

namespace dim::net {
namespace {

dim::orchestrator::RegisterNodeRequest Registration(const std::string& id,
                                                    const std::string& address) {
  dim::orchestrator::RegisterNodeRequest r;
  r.set_node_id(id);
  r.set_address(address);
  r.set_max_concurrent_jobs(2);
  auto* d = r.add_datasets();
  d->set_name("default");
  d->set_rows(240);
  d->add_columns("age");
  r.add_models("heart_mlp");
  return r;
}

TEST(NodeRegistry, ALiveNodeIsNeverReplacedFromAnotherAddress) {
  core::SystemClock clock;
  NodeRegistry registry(clock, NodeRegistryOptions{});
  ASSERT_TRUE(registry.Register(Registration("hospital-a", "127.0.0.1:5001")).ok());
  const core::Status hijack = registry.Register(Registration("hospital-a", "127.0.0.1:6666"));
  EXPECT_EQ(hijack.code(), core::StatusCode::kAlreadyExists);
  EXPECT_THAT(hijack.message(),
              ::testing::StartsWith("node 'hospital-a' is already registered from 127.0.0.1:5001 "
                                    "and active"));
  // The same daemon, restarted at its address, registers again.
  EXPECT_TRUE(registry.Register(Registration("hospital-a", "127.0.0.1:5001")).ok());
  const auto nodes = registry.Describe();
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_EQ(nodes[0].address, "127.0.0.1:5001");
}

TEST(NodeRegistry, WhatANodeReportsIsCheckedBeforeItIsRecorded) {
  core::SystemClock clock;
  NodeRegistry registry(clock, NodeRegistryOptions{});
  auto negative_rows = Registration("n1", "127.0.0.1:5001");
  negative_rows.mutable_datasets(0)->set_rows(-5);
  auto no_slots = Registration("n2", "127.0.0.1:5002");
  no_slots.set_max_concurrent_jobs(-1);
  const std::vector<std::pair<dim::orchestrator::RegisterNodeRequest, std::string>> cases = {
      {negative_rows, "node 'n1': dataset 'default': rows must not be negative, got -5"},
      {no_slots, "node 'n2': max_concurrent_jobs must be from 0 to 1000000, got -1"},
      {Registration("n3", "nonsense"),
       "node 'n3': address 'nonsense' is not HOST:PORT with a port from 1 to 65535"},
      {Registration("n4", "127.0.0.1:70000"),
       "node 'n4': address '127.0.0.1:70000' is not HOST:PORT with a port from 1 to 65535"},
      {Registration("a b", "127.0.0.1:5005"),
       "node id 'a b': no spaces, control characters, ',' or '='"},
  };
  for (const auto& [request, message] : cases) {
    const core::Status s = registry.Register(request);
    EXPECT_EQ(s.code(), core::StatusCode::kInvalidArgument) << message;
    EXPECT_EQ(s.message(), message);
  }
  EXPECT_TRUE(registry.Describe().empty());

  ASSERT_TRUE(registry.Register(Registration("ok", "127.0.0.1:5006")).ok());
  dim::orchestrator::HeartbeatRequest heartbeat;
  heartbeat.set_node_id("ok");
  heartbeat.set_active_jobs(-3);
  EXPECT_EQ(registry.Heartbeat(heartbeat).status().code(), core::StatusCode::kInvalidArgument);
  heartbeat.set_active_jobs(1);
  EXPECT_TRUE(*registry.Heartbeat(heartbeat));
}

}  // namespace
}  // namespace dim::net
