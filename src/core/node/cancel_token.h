// A flag that a job's owner raises to stop work at the next batch boundary.
#pragma once

#include <atomic>

namespace dim::core {

// Thread-safe. Shared between the canceller and the workers (hold it by shared_ptr).
class CancelToken final {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

}  // namespace dim::core
