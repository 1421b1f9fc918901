// A flag that a job's owner raises to stop work at the next batch boundary.
#pragma once

#include <atomic>
#include <cstdint>

namespace dim::core {

// Thread-safe. Shared between the canceller and the workers (hold it by shared_ptr).
class CancelToken final {
 public:
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // The progress of the task the token goes with, in rows: written by whoever runs it (a
  // worker adds each batch's rows; a node's client copies what its node reports) and read
  // by whoever follows it. It is not part of cancelling, so runners holding the token const
  // may report it.
  void AddRowsDone(int64_t rows) const { rows_done_.fetch_add(rows, std::memory_order_relaxed); }
  void SetRows(int64_t done, int64_t total) const {
    rows_done_.store(done, std::memory_order_relaxed);
    rows_total_.store(total, std::memory_order_relaxed);
  }
  void SetRowsTotal(int64_t total) const { rows_total_.store(total, std::memory_order_relaxed); }
  int64_t rows_done() const { return rows_done_.load(std::memory_order_relaxed); }
  int64_t rows_total() const { return rows_total_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
  mutable std::atomic<int64_t> rows_done_{0};
  mutable std::atomic<int64_t> rows_total_{0};  // 0: not known
};

}  // namespace dim::core
