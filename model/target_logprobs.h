// Log-probabilities and entropies of target tokens from final hidden states, in row chunks, so that no
// (tokens x vocabulary) log-softmax exists for all rows at once: with a 150k vocabulary that tensor (and its
// exp for the entropy) is the largest of a GRPO step. With autograd on, each chunk is activation-checkpointed:
// forward keeps only the chunk's hidden rows, backward runs the chunk's head and log-softmax again (one more
// lm_head forward per step: the price of holding one chunk's logits instead of all of them; Liger-Kernel's fused
// linear cross-entropy makes the same trade). Internal to model/.
#pragma once

#include <cstdint>
#include <functional>

#include <torch/types.h>

namespace seer::model {

struct TargetLogprobs {
  torch::Tensor logprobs;  ///< (K) log_softmax(head(h) / T)[k, target_k], float32 (float64 for a float64 head)
  torch::Tensor entropy;   ///< (K) -sum_v p log p of the same distribution; undefined unless asked for
};

/// hidden (K, D) rows that predict `targets` (K) int64; head maps (k, D) -> (k, V) logits (float32 or float64).
/// Rows go through in chunks of at most max(1, chunk_bytes / (V * 4)) rows (chunk_bytes <= 0: one chunk);
/// each chunk computes exactly what one pass over all rows computes for its rows (the same operations). The
/// head must be deterministic and may close over parameters: their gradients accumulate in backward as usual.
/// `vocab` is V (known without running the head). Throws seer::Error if temperature <= 0.
TargetLogprobs target_logprobs(const std::function<torch::Tensor(const torch::Tensor&)>& head,
                               const torch::Tensor& hidden, const torch::Tensor& targets, int64_t vocab,
                               double temperature, bool with_entropy, int64_t chunk_bytes);

}  // namespace seer::model
