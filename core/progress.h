// Progress lines for long steps a user waits on (dataset generation, checkpoint save and load, evaluation):
// "what: done/total unit (pct%), rate unit/s, ETA", redrawn in place on stdout. Only when stdout is a terminal
// (main() decides once, see set_progress_enabled), and only once a step has taken over half a second, so short
// steps, logs and pipes stay clean.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace seer {

/// Turns progress lines on or off for the process (main(): stdout is a terminal, or SEER_PROGRESS=1/0).
void set_progress_enabled(bool enabled);
bool progress_enabled();

class Progress {
 public:
  /// `total` 0 = unknown (count and rate only). `unit` names what is counted ("rows", "images"); `scale`
  /// divides counts for display (1 << 20 with unit "MiB" for bytes).
  Progress(std::string what, int64_t total, std::string unit, double scale = 1.0);
  ~Progress();  ///< ends the line if one was drawn
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Adds `n` to the count and redraws at most 5 times a second. Thread-safe.
  void add(int64_t n = 1);
  /// Sets the count (for callers that know it).
  void set(int64_t done);
  /// Draws the final line ("what: total unit in T s, rate") if anything was drawn, and ends it.
  void finish();

 private:
  void draw(bool final);
  std::string what_, unit_;
  int64_t total_, done_ = 0;
  double scale_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false, finished_ = false;
  std::mutex mutex_;
};

}  // namespace seer
