#include "core/patterns/comparative.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dim::core {
namespace {

using ::testing::HasSubstr;

// Nodes known by their descriptions only: selection never reaches a node.
class Described final : public NodeDirectory {
 public:
  NodeDescription& Add(const std::string& id, std::vector<std::string> models,
                       const std::string& dataset = "cardio") {
    NodeDescription d;
    d.id = id;
    d.described = true;
    d.max_concurrent_jobs = 4;
    DatasetEntry e;
    e.name = dataset;
    d.datasets = {e};
    d.models = std::move(models);
    nodes_.push_back(std::move(d));
    return nodes_.back();
  }
  Result<std::shared_ptr<NodeClient>> Client(const std::string& id) override {
    return Status::NotFound("node '" + id + "' not found");
  }
  std::vector<NodeDescription> Describe() override { return nodes_; }

 private:
  std::vector<NodeDescription> nodes_;
};

ComparativeConfig Config() {
  ComparativeConfig c;
  c.model_ids = {"m1", "m2"};
  c.dataset = "cardio";
  return c;
}

TEST(SelectComparativeNode, ChoosesTheFittingNodeWithMostFreeSlotsThenReputation) {
  Described dir;
  dir.Add("a-busy", {"m1", "m2"}).active_jobs = 3;
  dir.Add("b-lacks", {"m1"});
  dir.Add("c-idle-flaky", {"m1", "m2"}).reputation = 0.5;
  dir.Add("d-idle", {"m2", "m1"});
  dir.Add("e-other-data", {"m1", "m2"}, "renal");
  auto chosen = SelectComparativeNode(Config(), dir);
  ASSERT_TRUE(chosen.ok()) << chosen.status().ToString();
  EXPECT_EQ(*chosen, "d-idle");
}

TEST(SelectComparativeNode, EqualNodesGoToTheFirstIdAndMissingModelsAreNamed) {
  Described dir;
  dir.Add("n1", {"m1", "m2"});
  dir.Add("n2", {"m1", "m2"});
  auto chosen = SelectComparativeNode(Config(), dir);
  ASSERT_TRUE(chosen.ok());
  EXPECT_EQ(*chosen, "n1");

  Described lacking;
  lacking.Add("x", {"m1"});
  auto none = SelectComparativeNode(Config(), lacking);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("x lacks 'm2'"));
}

}  // namespace
}  // namespace dim::core
