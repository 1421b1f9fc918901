#include "core/custody/ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace dim::core {
namespace {

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("dim-ledger-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".db");
    Remove();
  }
  void TearDown() override { Remove(); }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path_.string() + suffix);
    }
  }
  LedgerEntry Entry(const std::string& dataset, double epsilon) {
    LedgerEntry e;
    e.time = "2026-12-04T10:00:00.000Z";
    e.job_id = "job-1";
    e.task_id = "job-1";
    e.user = "alice";
    e.pattern = "collaborative";
    e.dataset = dataset;
    e.model_sha256 = std::string(64, 'a');
    e.rows = 240;
    e.epsilon = epsilon;
    e.release_sha256 = std::string(64, 'b');
    return e;
  }
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    sqlite3_close(db);
  }
  std::filesystem::path path_;
};

TEST_F(LedgerTest, EntriesChainAndEpsilonAddsUpAcrossReopens) {
  {
    auto ledger = Ledger::Open(path_);
    ASSERT_TRUE(ledger.ok()) << ledger.status().ToString();
    auto first = (*ledger)->Append(Entry("patients", 0.4));
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->seq, 1);
    EXPECT_EQ(first->prev_sha256, "");
    EXPECT_EQ(first->entry_sha256, LedgerEntryDigest(*first));
    auto second = (*ledger)->Append(Entry("patients", 0.3));
    ASSERT_TRUE(second.ok());
    EXPECT_EQ(second->prev_sha256, first->entry_sha256);
    ASSERT_TRUE((*ledger)->Append(Entry("other", 0)).ok());
  }
  auto ledger = Ledger::Open(path_);
  ASSERT_TRUE(ledger.ok());
  EXPECT_NEAR(*(*ledger)->Spent("patients"), 0.7, 1e-12);
  EXPECT_EQ(*(*ledger)->Spent("other"), 0);
  EXPECT_EQ(*(*ledger)->Spent("none"), 0);
  EXPECT_EQ((*ledger)->List()->size(), 3u);
  EXPECT_EQ((*ledger)->List("", "other")->size(), 1u);
  EXPECT_EQ((*ledger)->List("2027", "")->size(), 0u);
  auto verdict = (*ledger)->Verify();
  ASSERT_TRUE(verdict.ok());
  EXPECT_FALSE(verdict->has_value());
}

TEST_F(LedgerTest, VerifyNamesTheFirstEntryChangedRemovedOrRelinked) {
  {
    auto ledger = Ledger::Open(path_);
    for (int i = 0; i < 4; ++i) ASSERT_TRUE((*ledger)->Append(Entry("d", 0.1)).ok());
  }
  const auto broken = [&] {
    auto ledger = Ledger::Open(path_);
    auto v = (*ledger)->Verify();
    EXPECT_TRUE(v.ok());
    return v.ok() && v->has_value() ? (*v)->first : int64_t{0};
  };
  Sql("UPDATE releases SET rows = 241 WHERE seq = 3");
  EXPECT_EQ(broken(), 3);
  Sql("UPDATE releases SET rows = 240 WHERE seq = 3");
  EXPECT_EQ(broken(), 0);
  Sql("DELETE FROM releases WHERE seq = 2");
  EXPECT_EQ(broken(), 3);  // entry 2 is missing
}

TEST_F(LedgerTest, TheDigestCoversEveryField) {
  const LedgerEntry base = Entry("d", 0.25);
  const std::string digest = LedgerEntryDigest(base);
  for (int field = 0; field < 12; ++field) {
    LedgerEntry e = base;
    switch (field) {
      case 0:
        e.seq = 2;
        break;
      case 1:
        e.time += "x";
        break;
      case 2:
        e.job_id += "x";
        break;
      case 3:
        e.task_id += "x";
        break;
      case 4:
        e.user += "x";
        break;
      case 5:
        e.pattern += "x";
        break;
      case 6:
        e.dataset += "x";
        break;
      case 7:
        e.model_sha256 += "x";
        break;
      case 8:
        e.rows += 1;
        break;
      case 9:
        e.epsilon = 0.25000000001;
        break;
      case 10:
        e.release_sha256 += "x";
        break;
      case 11:
        e.prev_sha256 = "x";
        break;
    }
    EXPECT_NE(LedgerEntryDigest(e), digest) << field;
  }
  // Moving a byte from one field to the next changes it too.
  LedgerEntry a = base, b = base;
  a.job_id = "ab";
  a.task_id = "c";
  b.job_id = "a";
  b.task_id = "bc";
  EXPECT_NE(LedgerEntryDigest(a), LedgerEntryDigest(b));
}

TEST_F(LedgerTest, APathThatCannotHoldALedgerIsRefused) {
  EXPECT_EQ(Ledger::Open("/nonexistent/dir/ledger.db").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dim::core
