// The per-GPU memory estimate (trainer/memory_estimate.h) against what seer really allocates where that can be
// measured on a CPU: the policy's parameter bytes and the rollout's KV cache (Vlm::new_cache) for the tiny
// presets; and the switches move the parts they should: sharding divides the AdamW moments by the ranks,
// gradient checkpointing shrinks the activations, a frozen tower takes no gradient or optimizer state, kl_coef 0
// loads no reference model, fused attention drops the T^2 term.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/config.h"
#include "model/presets.h"
#include "model/vlm.h"
#include "trainer/memory_estimate.h"

namespace seer::trainer {
namespace {

double part(const std::vector<MemoryPart>& parts, const std::string& name) {
  for (const auto& p : parts) {
    if (p.name == name) return p.bytes;
  }
  return -1;
}

ExperimentConfig grpo_config() {
  ExperimentConfig c;
  c.algorithm.name = "grpo";
  c.algorithm.kl_coef = 0.04;
  c.data.max_prompt_tokens = 96;
  c.rollout.max_new_tokens = 32;
  c.rollout.prompts_per_call = 3;
  c.rollout.group_size = 4;
  c.trainer.micro_batch_size = 2;
  return c;
}

TEST(MemoryEstimate, ParametersAndKvCacheEqualWhatSeerAllocates) {
  for (const char* preset : {"tiny", "tiny-qwen2vl"}) {
    const model::VlmConfig m = model::preset_config(preset);
    auto policy = model::Vlm::create(m, 1, model::LoadOptions{});
    double bytes = 0;
    for (const auto& [name, p] : policy->named_parameters()) bytes += static_cast<double>(p.numel() * p.element_size());
    ExperimentConfig c = grpo_config();
    c.compute.rollout_dtype = "bfloat16";  // bf16 products; the cache keeps the weights' float32
    const MemoryEstimate e = estimate_memory(m, c, 1, false);
    EXPECT_DOUBLE_EQ(part(e.learner, "parameters"), bytes) << preset;
    EXPECT_DOUBLE_EQ(part(e.rollout, "weights"), bytes) << preset;
    EXPECT_DOUBLE_EQ(part(e.rollout, "bf16 weight casts"), bytes / 2) << preset;
    // generate(): one cache of the prompts, shared by their samples, and one of every sample's new tokens
    const int64_t rows = c.rollout.prompts_per_call * c.rollout.group_size;
    const model::KvCache prompts = policy->new_cache(c.rollout.prompts_per_call, c.data.max_prompt_tokens);
    const model::KvCache samples = policy->new_cache(rows, c.rollout.max_new_tokens);
    double kv = 0;
    for (const auto* side : {&prompts.k, &prompts.v, &samples.k, &samples.v}) {
      for (const auto& t : *side) kv += static_cast<double>(t.numel() * t.element_size());
    }
    EXPECT_DOUBLE_EQ(part(e.rollout, "KV cache"), kv) << preset;
  }
}

TEST(MemoryEstimate, SwitchesMoveTheirParts) {
  const model::VlmConfig m = model::preset_config("tiny-qwen2vl");
  ExperimentConfig c = grpo_config();
  const MemoryEstimate base = estimate_memory(m, c, 4, false);
  EXPECT_LT(base.trainable, base.parameters);  // frozen tower (the default)
  EXPECT_DOUBLE_EQ(part(base.learner, "gradients"), 4.0 * static_cast<double>(base.trainable));
  EXPECT_DOUBLE_EQ(part(base.learner, "optimizer state"), 8.0 * static_cast<double>(base.trainable));
  EXPECT_DOUBLE_EQ(part(base.learner, "reference model"), 4.0 * static_cast<double>(base.parameters));
  EXPECT_LT(part(base.learner, "vision tower activations"), 0);  // frozen: none kept

  c.trainer.shard_optimizer = true;
  const MemoryEstimate sharded = estimate_memory(m, c, 4, false);
  EXPECT_DOUBLE_EQ(part(sharded.learner, "optimizer state"), 24.0 * static_cast<double>(base.trainable) / 4);
  c.trainer.gradient_checkpointing = true;
  const MemoryEstimate recomputed = estimate_memory(m, c, 4, false);
  EXPECT_LT(part(recomputed.learner, "activations"), part(base.learner, "activations"));
  const MemoryEstimate fused = estimate_memory(m, grpo_config(), 4, true);
  EXPECT_LT(part(fused.learner, "activations"), part(base.learner, "activations"));

  c = grpo_config();
  c.algorithm.kl_coef = 0;
  EXPECT_LT(part(estimate_memory(m, c, 1, false).learner, "reference model"), 0);
  c.model.freeze_vision_tower = false;
  const MemoryEstimate tower = estimate_memory(m, c, 1, false);
  EXPECT_EQ(tower.trainable, tower.parameters);
  EXPECT_GT(part(tower.learner, "vision tower activations"), 0);
  c.algorithm.name = "sft";
  EXPECT_TRUE(estimate_memory(m, c, 1, false).rollout.empty());
}

}  // namespace
}  // namespace seer::trainer
