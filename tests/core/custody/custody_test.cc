#include "core/custody/custody.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace dim::core {
namespace {

class CustodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("dim-custody-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + s);
    auto ledger = Ledger::Open(path_);
    ASSERT_TRUE(ledger.ok());
    custody_ = std::make_unique<NodeCustody>("hospital-a", 10, std::move(*ledger), clock_);
  }
  void TearDown() override {
    custody_.reset();
    for (const char* s : {"", "-wal", "-shm"}) std::filesystem::remove(path_.string() + s);
  }
  void Policy(const std::string& json) {
    auto p = SitePolicy::Parse(json, "policy");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    custody_->SetPolicy(std::move(*p));
  }
  static NodeTask Dp(double epsilon, double lo = 0, double hi = 1) {
    NodeTask t;
    t.job_id = "job-1";
    t.model_id = "m";
    t.dataset = "patients";
    t.user_id = "alice";
    t.differential_privacy = DifferentialPrivacy{epsilon, lo, hi};
    return t;
  }

  SystemClock clock_;
  std::filesystem::path path_;
  std::unique_ptr<NodeCustody> custody_;
};

TEST_F(CustodyTest, TheBudgetCountsReservationsAndReleasesAndNothingElse) {
  Policy(R"({"patients": {"differential_privacy": {"budget": 1.0}}})");
  NodeTask t = Dp(0.4);
  auto a = custody_->Admit(t, {""});
  ASSERT_TRUE(a.ok());
  auto b = custody_->Admit(t, {""});
  ASSERT_TRUE(b.ok());
  // Two reservations of 0.4 are in flight: a third is refused before anything is spent.
  auto c = custody_->Admit(t, {""});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "dataset 'patients' on node 'hospital-a': privacy budget exhausted: 0.8 of 1 spent, "
            "this job asks 0.4");
  // One ran and released; one failed and released nothing.
  ASSERT_TRUE(custody_->Release(*a, t, "{\"rows\":20}", 20, {std::string(64, 'a')}).ok());
  custody_->Abandon(*b);
  EXPECT_NEAR(custody_->Summary("patients").spent, 0.4, 1e-12);
  EXPECT_EQ(custody_->Summary("patients").budget, 1.0);
  ASSERT_TRUE(custody_->Admit(t, {""}).ok());
  NodeTask small = Dp(0.2);
  EXPECT_TRUE(custody_->Admit(small, {""}).ok());  // 0.4 + 0.4 + 0.2 = 1.0: exactly the budget
  EXPECT_FALSE(custody_->Admit(small, {""}).ok());
  // Another dataset has its own budget (none here).
  NodeTask elsewhere = Dp(5);
  elsewhere.dataset = "other";
  EXPECT_TRUE(custody_->Admit(elsewhere, {""}).ok());
}

TEST_F(CustodyTest, RulesRefuseWithTheirCodeAndFigures) {
  Policy(R"({"*": {"differential_privacy": {"required": true, "max_epsilon_per_job": 0.5,
                                            "clip": [0, 0.8]}},
             "patients": {"users": ["alice"], "models": ["m"], "patterns": ["collaborative"],
                          "max_rows_returned": 5, "min_samples": 30}})");
  NodeTask ok = Dp(0.5, -1, 2);
  auto a = custody_->Admit(ok, {""});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->min_samples, 30);
  // The site's clip wins over a wider one.
  EXPECT_EQ(ok.differential_privacy->clip_lo, 0);
  EXPECT_EQ(ok.differential_privacy->clip_hi, 0.8);

  NodeTask bob = Dp(0.1);
  bob.user_id = "bob";
  EXPECT_EQ(custody_->Admit(bob, {""}).status().code(), StatusCode::kPermissionDenied);
  NodeTask other_model = Dp(0.1);
  other_model.model_id = "n";
  EXPECT_EQ(custody_->Admit(other_model, {""}).status().code(), StatusCode::kPermissionDenied);
  NodeTask greedy = Dp(0.6);
  EXPECT_NE(custody_->Admit(greedy, {""})
                .status()
                .message()
                .find("max_epsilon_per_job 0.5, this job asks 0.6"),
            std::string::npos);
  NodeTask plain = Dp(0.1);
  plain.differential_privacy.reset();
  EXPECT_NE(
      custody_->Admit(plain, {""}).status().message().find("differential privacy is required"),
      std::string::npos);
  NodeTask vote = Dp(0.1);
  vote.kind = NodeTaskKind::kComparative;
  vote.model_ids = {"m", "m"};
  EXPECT_NE(custody_->Admit(vote, {"", ""})
                .status()
                .message()
                .find("pattern comparative is not allowed (patterns: collaborative)"),
            std::string::npos);
}

TEST_F(CustodyTest, AModelAllowedByDigestIsCheckedOnceItsDigestIsKnown) {
  const std::string sha(64, 'c');
  Policy(R"({"*": {"models": ["sha256:)" + sha + R"("]}})");
  NodeTask t = Dp(0.1);
  t.model_id = "fetched-later";
  auto a = custody_->Admit(t, {""});  // not here yet: let in, checked at release
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(custody_->Release(*a, t, "{}", 1, {std::string(64, 'd')}).code(),
            StatusCode::kPermissionDenied);
  auto b = custody_->Admit(t, {sha});
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(custody_->Release(*b, t, "{}", 1, {sha}).ok());
  auto entries = custody_->ledger()->List();
  ASSERT_EQ(entries->size(), 1u);  // the refused release was not recorded
  EXPECT_EQ((*entries)[0].model_sha256, sha);
}

TEST(Custody, ABudgetWithoutALedgerRefusesDpTasks) {
  SystemClock clock;
  NodeCustody custody("n", 10, nullptr, clock);
  auto p = SitePolicy::Parse(R"({"*": {"differential_privacy": {"budget": 1}}})", "p");
  custody.SetPolicy(std::move(*p));
  NodeTask t;
  t.dataset = "d";
  t.differential_privacy = DifferentialPrivacy{0.1, 0, 1};
  EXPECT_EQ(custody.Admit(t, {""}).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace dim::core
