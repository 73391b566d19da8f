#include "trainer/memory_estimate.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/param_count.h"

namespace seer::trainer {
namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

double sum(const std::vector<MemoryPart>& parts) {
  double s = 0;
  for (const auto& p : parts) s += p.bytes;
  return s;
}

std::string billions(int64_t n) { return fmt::format("{:.2f} B", static_cast<double>(n) / 1e9); }

}  // namespace

double MemoryEstimate::learner_total() const { return sum(learner); }
double MemoryEstimate::rollout_total() const { return sum(rollout); }

MemoryEstimate estimate_memory(const model::VlmConfig& m, const ExperimentConfig& c, int64_t learner_ranks,
                               bool fused_attention) {
  MemoryEstimate e;
  const model::ParameterCount n = model::count_parameters(m);
  const bool train_tower = m.has_vision && !c.model.freeze_vision_tower;
  e.parameters = n.total();
  e.trainable = n.total() - (train_tower ? 0 : n.vision_tower);
  e.learner_ranks = learner_ranks;
  const double P = static_cast<double>(e.parameters), Pt = static_cast<double>(e.trainable);
  const double W = static_cast<double>(learner_ranks);
  const bool grpo = c.algorithm.name == "grpo";

  // Sizes of one learner micro-batch.
  const model::TextConfig& t = m.text;
  const double D = static_cast<double>(t.hidden_size), I = static_cast<double>(t.intermediate_size);
  const double H = static_cast<double>(t.num_attention_heads), KVd = static_cast<double>(t.num_key_value_heads * t.head_dim);
  const double L = static_cast<double>(t.num_hidden_layers), V = static_cast<double>(t.vocab_size);
  const double T = static_cast<double>(c.data.max_prompt_tokens + c.rollout.max_new_tokens);
  const double Tc = static_cast<double>(c.rollout.max_new_tokens);
  const double B = static_cast<double>(c.trainer.micro_batch_size);
  const double a = c.compute.learner_dtype == "bfloat16" ? 2.0 : 4.0;
  // Saved for backward per token in one decoder layer (eager): the norms' inputs and outputs, q/k/v before and
  // after rotary, the attention output, the MLP's gate, up, activation and product (~10 D + 3 KV d + 4 I
  // values), plus with eager attention the probabilities (H x T per query token); the fused kernels keep a
  // log-sum-exp per head instead.
  const double layer_token = (10 * D + 3 * KVd + 4 * I + (fused_attention ? H : H * T)) * a;

  e.learner.push_back({"parameters", 4 * P, fmt::format("4 B x {} (fp32 master weights)", billions(e.parameters))});
  e.learner.push_back({"gradients", 4 * Pt, fmt::format("4 B x {} trainable", billions(e.trainable))});
  if (c.trainer.shard_optimizer) {
    e.learner.push_back({"optimizer state", 8 * Pt / W + 16 * Pt / W,
                         fmt::format("AdamW moments 8 B x {} / {} ranks + 16 B per shard element (LR scales, step buffers)", billions(e.trainable),
                                     learner_ranks)});
  } else {
    e.learner.push_back({"optimizer state", 8 * Pt, fmt::format("AdamW moments 8 B x {}", billions(e.trainable))});
  }
  if (grpo && c.algorithm.kl_coef > 0) {
    e.learner.push_back({"reference model", 4 * P, "fp32 copy of the start weights (algorithm.kl_coef > 0)"});
  }
  if (c.trainer.gradient_checkpointing) {
    e.learner.push_back({"activations", L * B * T * D * a + B * T * layer_token,
                         fmt::format("checkpointed: {} layer inputs + 1 layer of B={} x T={}", t.num_hidden_layers,
                                     c.trainer.micro_batch_size, static_cast<int64_t>(T))});
  } else {
    e.learner.push_back({"activations", L * B * T * layer_token,
                         fmt::format("{} layers x B={} x T={}{}", t.num_hidden_layers, c.trainer.micro_batch_size,
                                     static_cast<int64_t>(T), fused_attention ? " (fused attention)" : " (eager attention: B x H x T^2 per layer)")});
  }
  e.learner.push_back({"logits", 3 * B * Tc * V * 4,
                       fmt::format("3 x B x {} completion tokens x vocab {} x 4 B", static_cast<int64_t>(Tc), t.vocab_size)});
  if (train_tower) {
    // Patches of one sequence's images: image tokens bounded by the prompt, times the merge factor (Qwen-VL), or
    // one fixed-size image (LLaVA). Attention over all patches (Qwen2.5-VL windows: bounded by the window).
    double patches = 0, Dv = 0, Iv = 0, Hv = 0, depth = 0, attended = 0;
    if (m.dynamic_resolution()) {
      const auto& q = m.qwen_vision;
      patches = static_cast<double>(c.data.max_prompt_tokens * q.spatial_merge_size * q.spatial_merge_size);
      Dv = static_cast<double>(q.embed_dim), Iv = static_cast<double>(q.mlp_hidden), Hv = static_cast<double>(q.num_heads);
      depth = static_cast<double>(q.depth);
      const double window = q.window_size > 0 ? static_cast<double>((q.window_size / q.patch_size) * (q.window_size / q.patch_size)) : patches;
      const double full = q.window_size > 0 ? static_cast<double>(q.fullatt_block_indexes.size()) : depth;
      attended = (full * patches + (depth - full) * std::min(window, patches)) / depth;
    } else {
      patches = static_cast<double>(m.vision.num_patches() + 1);
      Dv = static_cast<double>(m.vision.hidden_size), Iv = static_cast<double>(m.vision.intermediate_size);
      Hv = static_cast<double>(m.vision.num_attention_heads), depth = static_cast<double>(m.vision.num_hidden_layers);
      attended = patches;
    }
    e.learner.push_back({"vision tower activations", B * depth * patches * (10 * Dv + 4 * Iv + Hv * attended) * a,
                         fmt::format("trained tower: {} blocks x {} patches per sequence", static_cast<int64_t>(depth),
                                     static_cast<int64_t>(patches))});
  }
  e.learner.push_back({"runtime", 2 * kGiB, "CUDA context, NCCL buffers, allocator slack (fixed)"});

  if (grpo) {
    const double rows = static_cast<double>(c.rollout.prompts_per_call * c.rollout.group_size);
    const double r = c.compute.rollout_dtype == "bfloat16" ? 2.0 : 4.0;
    const double Tp = static_cast<double>(c.data.max_prompt_tokens);
    const double prompts = static_cast<double>(c.rollout.prompts_per_call);
    e.rollout.push_back({"weights", 4 * P, fmt::format("4 B x {}", billions(e.parameters))});
    if (c.compute.rollout_dtype != "float32") {  // bfloat16, or auto where it may choose it (model/linear.h)
      e.rollout.push_back({"bf16 weight casts", 2 * P, "2 B x parameters, held during a generation call"});
    }
    // The cache has the weights' dtype (float32; compute.rollout_dtype only changes the matmul products): each
    // prompt's positions once (its G samples read them in place), and every sample's new tokens.
    const double N = static_cast<double>(c.rollout.max_new_tokens);
    e.rollout.push_back({"KV cache", 2 * L * KVd * (prompts * Tp + rows * N) * 4,
                         fmt::format("2 x {} layers x {} KV dims x ({} prompts x {} + {} rows x {})", t.num_hidden_layers,
                                     static_cast<int64_t>(KVd), c.rollout.prompts_per_call, c.data.max_prompt_tokens,
                                     static_cast<int64_t>(rows), c.rollout.max_new_tokens)});
    e.rollout.push_back({"prefill attention", (fused_attention ? 0.0 : prompts * H * Tp * Tp * r) + prompts * Tp * (D + I) * r,
                         fmt::format("{} prompts x H x {}^2 scores, one layer at a time", c.rollout.prompts_per_call,
                                     c.data.max_prompt_tokens)});
    e.rollout.push_back({"sampling logits", 2 * rows * V * 4, "2 x rows x vocab x 4 B"});
    e.rollout.push_back({"runtime", 2 * kGiB, "CUDA context and allocator slack (fixed)"});
  }
  return e;
}

}  // namespace seer::trainer
