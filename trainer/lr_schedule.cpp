#include "trainer/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace seer::trainer {

LrSchedule parse_lr_schedule(const std::string& name) {
  if (name == "constant") return LrSchedule::kConstant;
  if (name == "linear") return LrSchedule::kLinear;
  if (name == "cosine") return LrSchedule::kCosine;
  SEER_FAIL("unknown lr_schedule '{}' (constant, linear, cosine)", name);
}

double learning_rate(LrSchedule schedule, double peak, int64_t step, int64_t warmup, int64_t total) {
  if (step < warmup) return peak * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  const double span = static_cast<double>(std::max<int64_t>(1, total - warmup));
  const double progress = static_cast<double>(step - warmup) / span;
  switch (schedule) {
    case LrSchedule::kConstant: return peak;
    case LrSchedule::kLinear: return peak * std::max(0.0, static_cast<double>(total - step) / span);
    case LrSchedule::kCosine: return peak * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
  }
  return peak;
}

}  // namespace seer::trainer
