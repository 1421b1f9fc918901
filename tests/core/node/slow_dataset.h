// A dataset that keeps a task running for as long as a test needs: a named pipe, whose
// reader (the task) blocks in open() until the test feeds it.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "core/node/dataset_catalog.h"

namespace dim::testing {

// Three rows of the example datasets' columns.
inline constexpr char kSlowDatasetCsv[] =
    "age,bmi,systolic_bp,diastolic_bp,cholesterol,glucose,heart_rate,smoker\n"
    "42.47,18.825,110.13,55.52,182.23,85.03,56.66,0\n"
    "46.91,25.196,131.42,70.42,197.66,90.46,85.08,1\n"
    "61.2,31.5,150.1,95.3,240.8,130.2,90.0,1\n";

class SlowDataset final {
 public:
  // Writes kSlowDatasetCsv at `path`, adds it to `catalog` as `name` (which reads the file
  // once), then puts a named pipe in its place. Ignores SIGPIPE in the process: the test's
  // writer may find its reader gone, which must be EPIPE, not a killed test.
  void Create(core::DatasetCatalog& catalog, const std::string& name,
              const std::filesystem::path& path) {
    std::signal(SIGPIPE, SIG_IGN);
    path_ = path;
    std::ofstream(path_) << kSlowDatasetCsv;
    ASSERT_TRUE(catalog.Add(name, path_).ok());
    std::filesystem::remove(path_);
    ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0) << std::strerror(errno);
  }

  // Feeds the pipe to a reader that is opening it; false (after a millisecond) when none is.
  bool ReleaseIfWaiting() {
    const int fd = open(path_.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd < 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      return false;
    }
    fcntl(fd, F_SETFL, 0);
    const std::string content = kSlowDatasetCsv;
    const ssize_t written = write(fd, content.data(), content.size());
    // EPIPE: the reader (a cancelled task) closed the pipe after opening it; nothing to feed.
    if (!(written < 0 && errno == EPIPE)) {
      EXPECT_EQ(written, static_cast<ssize_t>(content.size()));
    }
    close(fd);
    return true;
  }

  // Lets the one task that reads the pipe go on; fails the test after 10 s without one.
  void Release() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!ReleaseIfWaiting()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no task is reading the pipe";
    }
  }

  // Runs `destroy` (e.g. resetting a task queue, which waits for its tasks) while feeding
  // every task still blocked on the pipe.
  void ReleaseWhile(const std::function<void()>& destroy) {
    std::atomic<bool> gone{false};
    std::thread destroyer([&] {
      destroy();
      gone = true;
    });
    while (!gone) ReleaseIfWaiting();
    destroyer.join();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace dim::testing
