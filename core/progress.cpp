#include "core/progress.h"

#include <atomic>
#include <cstdio>

#include <fmt/format.h>

namespace seer {
namespace {
std::atomic<bool> g_enabled{false};
constexpr double kFirstDrawSeconds = 0.5;
constexpr double kRedrawSeconds = 0.2;
}  // namespace

void set_progress_enabled(bool enabled) { g_enabled = enabled; }
bool progress_enabled() { return g_enabled; }

Progress::Progress(std::string what, int64_t total, std::string unit, double scale)
    : what_(std::move(what)), unit_(std::move(unit)), total_(total), scale_(scale > 0 ? scale : 1.0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::add(int64_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ += n;
  draw(false);
}

void Progress::set(int64_t done) {
  std::lock_guard<std::mutex> lock(mutex_);
  done_ = done;
  draw(false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (drawn_) draw(true);
}

void Progress::draw(bool final) {
  if (!g_enabled) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  if (!final) {
    if (elapsed < kFirstDrawSeconds || std::chrono::duration<double>(now - last_draw_).count() < kRedrawSeconds) return;
  }
  last_draw_ = now;
  drawn_ = true;
  const double done = static_cast<double>(done_) / scale_, total = static_cast<double>(total_) / scale_;
  const double rate = elapsed > 0 ? done / elapsed : 0;
  const char* prec = scale_ > 1 ? "{:.1f}" : "{:.0f}";
  // Appended piece by piece: `"/" + fmt::format(...)` trips a GCC 12 -O3 false positive (-Wrestrict).
  std::string line = what_;
  line += ": ";
  line += fmt::format(fmt::runtime(prec), done);
  if (total_ > 0) {
    line += '/';
    line += fmt::format(fmt::runtime(prec), total);
  }
  line += " " + unit_;
  if (total_ > 0) line += fmt::format(" ({:.0f}%)", 100.0 * done / total);
  if (final) {
    line += fmt::format(" in {:.1f} s, {:.1f} {}/s", elapsed, rate, unit_);
  } else {
    line += fmt::format(", {:.1f} {}/s", rate, unit_);
    if (total_ > 0 && rate > 0 && done < total) line += fmt::format(", {:.0f} s left", (total - done) / rate);
  }
  std::fprintf(stdout, "\r\033[K%s%s", line.c_str(), final ? "\n" : "");
  std::fflush(stdout);
}

}  // namespace seer
