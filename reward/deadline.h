// A per-sample time budget checked cooperatively by the scorers.
#pragma once

#include <chrono>
#include <stdexcept>

namespace seer::reward {

/// Thrown by Deadline::check when the budget is spent; the scorer turns it into status UNSCORABLE.
struct BudgetExceeded : std::runtime_error {
  BudgetExceeded() : std::runtime_error("scoring time budget exceeded") {}
};

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  /// budget_seconds <= 0 means no limit.
  explicit Deadline(double budget_seconds)
      : end_(budget_seconds > 0 ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                     std::chrono::duration<double>(budget_seconds))
                                : Clock::time_point::max()) {}
  static Deadline none() { return Deadline(0); }
  bool expired() const { return Clock::now() >= end_; }
  /// Throws BudgetExceeded once the budget is spent.
  void check() const {
    if (expired()) throw BudgetExceeded();
  }

 private:
  Clock::time_point end_;
};

}  // namespace seer::reward
