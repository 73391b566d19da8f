// compute.learner_dtype / rollout_dtype: auto. bf16 matmul products (float32 master weights, autocast semantics,
// model/linear.h) are chosen when two measurements made at start-up both allow it:
//   speed     bf16 products run at least kBf16MinSpeedup x the float32 ones on the model's device (native bf16:
//             AVX512-BF16/AMX CPUs, Ampere and later GPUs; without it bf16 is emulated and slower);
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

/// Rows of the speed probe: a learner's micro-batch multiplies many rows by each weight, a decode step a few.
inline constexpr int64_t kTrainRows = 256;
inline constexpr int64_t kDecodeRows = 32;

/// Speed of model::linear on a (rows x features) float32 input and (features x features) float32 weight with
/// bf16 products (the casts included, as the model pays them) over the same call in float32 (the linear-layer
/// backend set for this process), on `device`; best of several repetitions each (~0.1 s on a CPU). > 1: bf16
/// is faster.
double measure_bf16_speedup(const torch::Device& device, int64_t features = 512, int64_t rows = kTrainRows);

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

/// What `auto` picks for model `m`: decide_precision on measure_bf16_speedup(m.device(), the model's hidden size
/// (at most 2048), rows) and bf16_logprob_mismatch(m). Does not change the process's compute dtype.
PrecisionChoice choose_precision(Vlm& m, int64_t rows = kTrainRows);

/// For a `compute.*_dtype` setting of "auto": choose_precision(m) with kTrainRows for the learner and kDecodeRows
/// for every other role (they generate), set it as the process's compute dtype and log
/// the choice and why for `role` ("learner", "rollout", ...). Any other setting was applied at start-up
/// (app/process_setup.h apply_compute): nothing to do. Call once, after the model has loaded, before threads start.
void resolve_auto_precision(const std::string& setting, Vlm& m, const std::string& role);

}  // namespace seer::model
