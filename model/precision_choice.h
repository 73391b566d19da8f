// compute.learner_dtype / rollout_dtype: auto. bf16 matmul products (float32 master weights, autocast semantics,
// model/linear.h) are chosen when two measurements made at start-up both allow it:
//   speed     the model's own work runs at least kBf16MinSpeedup x faster with bf16 products than with float32
//             ones on its device: a forward pass over a probe batch for the learner, a few decode steps of
//             several samples for generation (native bf16: AVX512-BF16/AMX CPUs, Ampere and later GPUs; without
//             it bf16 is emulated and slower; and a fast GEMM alone can mislead: before core/malloc_tuning.h,
//             whole decode steps here ran slower in bf16 although their GEMMs alone ran 3.5x faster);
//   accuracy  on a probe batch, the model's token log-probs with bf16 products differ from the float32 ones by
//             at most kBf16MaxLogprobMismatch nats on average (the rollout-vs-learner mismatch bf16 would add).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <torch/types.h>

namespace seer::model {

class Vlm;

/// Smallest bf16 / float32 matmul speed ratio for which auto picks bf16.
inline constexpr double kBf16MinSpeedup = 1.3;
/// Largest mean |log p(bf16 products) - log p(float32)| (nats per target token) for which auto picks bf16.
inline constexpr double kBf16MaxLogprobMismatch = 0.02;

/// What the speed probe times: a learner's forward pass (many rows per weight) or generation (decode steps,
/// a few rows per weight).
enum class PrecisionWork { kLearner, kGeneration };

/// Time of `work` on model `m` with float32 products over the time with bf16 products (> 1: bf16 is faster):
/// kLearner = token_logprobs over a seeded text batch (4 rows of 64 tokens), kGeneration = 16 decode steps of
/// `rows` samples (the rows one generate() call decodes: prompts per call x group size; G = 8 samples per
/// prompt where rows allow); each the best of 3 after a warm-up, without autograd (~0.1-2 s on a small model on
/// a CPU). Leaves the process's compute dtype as it was.
double measure_bf16_speedup(Vlm& m, PrecisionWork work, int64_t rows = 8);

/// Mean |log p_bf16 - log p_fp32| (nats) over the target tokens of a seeded text-only probe batch (2 rows of 48
/// tokens), token_logprobs computed once with each compute dtype. Leaves the process's compute dtype as it was.
double bf16_logprob_mismatch(Vlm& m, uint64_t seed = 0);

struct PrecisionChoice {
  at::ScalarType dtype = at::kFloat;  ///< at::kFloat or at::kBFloat16
  double speedup = 0;                 ///< measure_bf16_speedup
  double mismatch = -1;               ///< bf16_logprob_mismatch (-1: not measured, bf16 already too slow)
  std::string why;                    ///< one line for the log and `seer doctor`
};

/// The rule: bf16 when speedup >= kBf16MinSpeedup and then mismatch() <= kBf16MaxLogprobMismatch (mismatch is
/// not called when bf16 is too slow). `device` names where the speed was measured, for `why`.
PrecisionChoice decide_precision(double speedup, const std::function<double()>& mismatch, const std::string& device);

/// What `auto` picks for model `m` doing `work`: decide_precision on measure_bf16_speedup(m, work) and
/// bf16_logprob_mismatch(m). Does not change the process's compute dtype.
PrecisionChoice choose_precision(Vlm& m, PrecisionWork work = PrecisionWork::kLearner, int64_t rows = 8);

/// For a `compute.*_dtype` setting of "auto": choose_precision(m) for the learner's work when `role` is
/// "learner", for generation of `rows` samples per call otherwise, set it as the process's compute dtype and log
/// the choice and why for `role` ("learner", "rollout", ...). Any other setting was applied at start-up
/// (app/process_setup.h apply_compute): nothing to do. Call once, after the model has loaded, before threads start.
void resolve_auto_precision(const std::string& setting, Vlm& m, const std::string& role, int64_t rows = 8);

}  // namespace seer::model
