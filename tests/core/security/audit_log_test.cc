#include "core/security/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace dim::core {
namespace {

TEST(AuditLog, OneParsableLinePerEntryFromManyThreads) {
  const auto path =
      std::filesystem::temp_directory_path() / ("dim-audit-" + std::to_string(::getpid()) + ".log");
  std::filesystem::remove(path);
  SystemClock clock;
  {
    auto log = AuditLog::Open(path, clock);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 250; ++i) {
          ASSERT_TRUE((*log)
                          ->Append({.identity = "u" + std::to_string(t),
                                    .role = "user",
                                    .method = "SubmitJob",
                                    .job_id = "job-" + std::to_string(i),
                                    .outcome = "OK"})
                          .ok());
        }
      });
    }
    for (auto& th : threads) th.join();
    (void)(*log)->Append(
        {.method = "CancelJob", .outcome = "NOT_FOUND", .message = "bad \xff byte"});
  }
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  AuditEntry last;
  while (std::getline(in, line)) {
    auto e = ParseAuditLine(line);
    ASSERT_TRUE(e.ok()) << line;
    EXPECT_FALSE(e->time.empty());
    last = *e;
    ++lines;
  }
  EXPECT_EQ(lines, 1001);
  EXPECT_EQ(last.method, "CancelJob");
  EXPECT_EQ(last.message, "bad \xef\xbf\xbd byte");  // U+FFFD for the bad byte: still JSON
  std::filesystem::remove(path);
}

TEST(AuditLog, RefusesWhatIsNotAFile) {
  SystemClock clock;
  EXPECT_FALSE(AuditLog::Open("/tmp", clock).ok());
  EXPECT_FALSE(AuditLog::Open("/nonexistent/dir/audit.log", clock).ok());
  EXPECT_FALSE(ParseAuditLine("not json").ok());
  EXPECT_FALSE(ParseAuditLine("{\"a\":1}").ok());
}

}  // namespace
}  // namespace dim::core
