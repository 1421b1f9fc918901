#include "core/node/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace dim::core {
namespace {

using namespace std::chrono_literals;

// Holds work until Open(); counts what entered and left.
class Gate {
 public:
  void Pass() {
    std::unique_lock lock(mu_);
    ++entered_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    ++left_;
    cv_.notify_all();
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool WaitEntered(int n) { return WaitFor([&] { return entered_ >= n; }); }
  bool WaitLeft(int n) { return WaitFor([&] { return left_ >= n; }); }

 private:
  template <typename Pred>
  bool WaitFor(Pred pred) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, 10s, pred);
  }
  std::mutex mu_;
  std::condition_variable cv_;
  int entered_ = 0;
  int left_ = 0;
  bool open_ = false;
};

// Waits until pool.idle() reaches n (a thread idles just after its work returns).
bool WaitIdle(const ThreadPool& pool, size_t n) {
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (pool.idle() != n) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(ThreadPool, WorkNeverWaitsForOtherWorkThatBlocks) {
  ThreadPool pool(2);
  Gate gate;
  for (int i = 0; i < 6; ++i) pool.Run([&] { gate.Pass(); });
  // All six run at once, though the pool keeps only two idle threads.
  EXPECT_TRUE(gate.WaitEntered(6));
  EXPECT_EQ(pool.threads(), 6u);
  gate.Open();
  EXPECT_TRUE(gate.WaitLeft(6));
}

TEST(ThreadPool, AnIdleThreadRunsTheNextWork) {
  ThreadPool pool(4);
  std::mutex mu;
  std::set<std::thread::id> ran_on;
  for (int i = 0; i < 20; ++i) {
    std::atomic<bool> done{false};
    pool.Run([&] {
      std::lock_guard lock(mu);
      ran_on.insert(std::this_thread::get_id());
      done = true;
    });
    ASSERT_TRUE(WaitIdle(pool, 1));
    EXPECT_TRUE(done);
  }
  EXPECT_EQ(ran_on.size(), 1u);
  EXPECT_EQ(pool.threads(), 1u);
}

TEST(ThreadPool, KeepsAtMostMaxIdleThreads) {
  ThreadPool pool(2);
  Gate gate;
  for (int i = 0; i < 5; ++i) pool.Run([&] { gate.Pass(); });
  ASSERT_TRUE(gate.WaitEntered(5));
  gate.Open();
  ASSERT_TRUE(gate.WaitLeft(5));
  ASSERT_TRUE(WaitIdle(pool, 2));
  const auto give_up = std::chrono::steady_clock::now() + 10s;
  while (pool.threads() != 2 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(pool.threads(), 2u);
}

TEST(ThreadPool, DestructionWaitsForRunningWork) {
  auto finished = std::make_shared<std::atomic<bool>>(false);
  Gate gate;  // outlives the pool
  {
    ThreadPool pool(1);
    pool.Run([&gate, finished] {
      gate.Pass();
      std::this_thread::sleep_for(50ms);
      *finished = true;
    });
    ASSERT_TRUE(gate.WaitEntered(1));
    gate.Open();
  }
  EXPECT_TRUE(*finished);
}

}  // namespace
}  // namespace dim::core
