// Learning-rate schedules with linear warm-up, as transformers' optimization.py defines them
// (get_constant_schedule_with_warmup, get_linear_schedule_with_warmup, get_cosine_schedule_with_warmup).
#pragma once

#include <cstdint>
#include <string>

namespace seer::trainer {

enum class LrSchedule { kConstant, kLinear, kCosine };

/// "constant" | "linear" | "cosine"; throws seer::Error otherwise.
LrSchedule parse_lr_schedule(const std::string& name);

/// The learning rate for optimizer step `step` (0-based) of `total_steps`: peak · step / warmup during warm-up,
/// then peak (constant), peak · (total − step) / (total − warmup) (linear, to 0), or
/// peak · ½(1 + cos(π · progress)) (cosine, to 0).
double learning_rate(LrSchedule schedule, double peak, int64_t step, int64_t warmup_steps, int64_t total_steps);

}  // namespace seer::trainer
