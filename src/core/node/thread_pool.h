// Threads for work that blocks (a node task waits on its node until the task ends), reused
// rather than made and torn down for each piece of work.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <vector>

namespace dim::core {

// Thread-safe. Work never waits for other work to finish: Run() hands it to an idle thread
// or starts a new one, since the work already running may block for as long as a node task
// lasts. A thread that finishes stays for the next piece of work, unless `max_idle` threads
// are idle already.
class ThreadPool final {
 public:
  explicit ThreadPool(size_t max_idle);
  // Waits for the work still running, then ends every thread.
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Starts `work` at once on a thread of the pool. Not after the destructor has begun.
  void Run(std::function<void()> work);

  // Threads that exist (running work or idle), and those idle; for tests.
  size_t threads() const;
  size_t idle() const;

 private:
  struct Worker;
  void Loop(std::function<void()> first);

  const size_t max_idle_;
  mutable std::mutex mu_;
  std::condition_variable gone_cv_;  // a thread ended
  std::vector<Worker*> idle_;        // the last one in runs the next work
  size_t live_ = 0;
  bool stopping_ = false;
};

}  // namespace dim::core
