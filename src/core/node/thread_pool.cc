#include "core/node/thread_pool.h"

#include <thread>
#include <utility>

namespace dim::core {

// An idle thread, waiting for Run() to hand it work.
struct ThreadPool::Worker {
  std::function<void()> work;
  std::condition_variable cv;
};

ThreadPool::ThreadPool(size_t max_idle) : max_idle_(max_idle) {}

ThreadPool::~ThreadPool() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  for (Worker* w : idle_) w->cv.notify_one();
  idle_.clear();
  gone_cv_.wait(lock, [&] { return live_ == 0; });
}

void ThreadPool::Run(std::function<void()> work) {
  std::unique_lock lock(mu_);
  if (!idle_.empty()) {
    Worker* w = idle_.back();
    idle_.pop_back();
    w->work = std::move(work);
    w->cv.notify_one();
    return;
  }
  ++live_;
  lock.unlock();
  // Detached: the destructor waits for live_ instead, which a thread lowers as its last step.
  std::thread([this, first = std::move(work)]() mutable { Loop(std::move(first)); }).detach();
}

void ThreadPool::Loop(std::function<void()> first) {
  Worker self;
  std::function<void()> work = std::move(first);
  std::unique_lock lock(mu_, std::defer_lock);
  for (;;) {
    work();
    work = nullptr;  // what the work held goes before the thread idles
    lock.lock();
    if (stopping_ || idle_.size() >= max_idle_) break;
    idle_.push_back(&self);
    self.cv.wait(lock, [&] { return self.work != nullptr || stopping_; });
    if (self.work == nullptr) break;  // stopping: the destructor took it off idle_
    work = std::move(self.work);
    self.work = nullptr;
    lock.unlock();
  }
  --live_;
  gone_cv_.notify_all();
}

size_t ThreadPool::threads() const {
  std::lock_guard lock(mu_);
  return live_;
}

size_t ThreadPool::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

}  // namespace dim::core
