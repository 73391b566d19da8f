// Per-GPU memory of a configured run, from the model's config.json alone (no weights): what a learner rank and
// a rollout worker hold at their peak, part by part, and whether that fits a GPU. `seer doctor --config` prints
// it. An estimate, not a measurement: each part's formula is in memory_estimate.cpp and the README.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "model/hf_config.h"

namespace seer::trainer {

struct MemoryPart {
  std::string name;   ///< "parameters", "gradients", ...
  double bytes = 0;
  std::string how;    ///< the formula with its numbers, for the report
};

struct MemoryEstimate {
  int64_t parameters = 0, trainable = 0;  ///< element counts (model/param_count.h)
  int64_t learner_ranks = 1;
  std::vector<MemoryPart> learner;        ///< one learner rank at the peak of a step
  std::vector<MemoryPart> rollout;        ///< one rollout worker at the peak of a generation call
  double learner_total() const;
  double rollout_total() const;
};

/// The estimate for model `m` run with config `c` on `learner_ranks` data-parallel ranks; `fused_attention`:
/// scaled_dot_product_attention (a LibTorch >= 2.1 build, model/layers.h), whose CUDA kernels keep no
/// T^2 probabilities, instead of the eager path.
/// Learner: fp32 master weights (4 B x all parameters), fp32 gradients (4 B x trainable), AdamW moments
/// (8 B x trainable, / ranks with trainer.shard_optimizer), the reference model (4 B x all, GRPO with
/// kl_coef > 0), decoder activations of one micro-batch (eager attention keeps B x H x T^2 probabilities per
/// layer; trainer.gradient_checkpointing keeps each layer's input and one layer's activations), the
/// target-position logits (3 x B x completion x vocab x 4 B), a trained vision tower's activations, and a
/// fixed 2 GiB for the CUDA context, NCCL and allocator slack. T = data.max_prompt_tokens +
/// rollout.max_new_tokens. Rollout: weights, their bf16 casts (rollout_dtype bfloat16 or auto), the KV cache
/// (each prompt's positions once, every sample's new tokens), the prefill's attention scores and the sampling
/// logits.
MemoryEstimate estimate_memory(const model::VlmConfig& m, const ExperimentConfig& c, int64_t learner_ranks,
                               bool fused_attention);

}  // namespace seer::trainer
