// Batched generation with a KV cache: G samples per prompt with one vision pass and one prefill for the
// whole batch of prompts, the cache expanded to G rows per prompt. Greedy or sampled (temperature,
// top-k, top-p), stop ids, max_new_tokens, banned ids (image placeholders can never be sampled).
// Mirrors transformers' generate() greedy/sample loops (generation/utils.py, logits_process.py v4.45).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include <ATen/core/Tensor.h>

#include "model/vlm.h"

namespace seer::model {

struct SamplingParams {
  double temperature = 1.0;            ///< 0 = greedy (argmax)
  int64_t top_k = 0;                   ///< 0 = off
  double top_p = 1.0;                  ///< 1 = off
  int64_t max_new_tokens = 256;
  std::vector<int64_t> stop_ids;       ///< EOS and extra stop tokens; the stop token is kept in the output
  std::vector<int64_t> banned_ids;     ///< never sampled (their logits are set to -inf)
  uint64_t seed = 0;                   ///< sampling is deterministic for a seed
  bool keep_step_logits = false;       ///< record each step's logits (tests)
  /// Called after each step with that step's tokens, (R) int64 on the CPU (finished rows carry the pad id),
  /// and which rows were still generating; for streaming output (`seer generate`). Empty = not called.
  std::function<void(const at::Tensor& tokens, const std::vector<bool>& alive)> on_step;
};

enum class FinishReason { kStop, kLength };

/// One prompt: token ids with image placeholders already expanded, and its images (or undefined).
struct Prompt {
  at::Tensor ids;           ///< (T) int64
  std::vector<at::Tensor> images;  ///< the prompt's images in order, each (1, 3, S, S) pixels or a Qwen2-VL
                                   ///< (1, t, h, w, patch_dim) patch grid (vlm.h), sizes free; empty = none
};

/// Rows are prompt-major: prompt p's samples are rows p*G .. p*G+G-1 (R = P*G).
struct Generation {
  at::Tensor tokens;                 ///< (R, steps) int64; after a row finishes: pad id
  at::Tensor logprobs;               ///< (R, steps) float32: log_softmax(logits / T) of the chosen token over the
                                     ///< full vocabulary (T = 1 when greedy); 0 after a row finishes
  std::vector<int64_t> lengths;      ///< tokens generated per row, the stop token included
  std::vector<FinishReason> finish;  ///< kStop (a stop id) or kLength (max_new_tokens reached)
  at::Tensor step_logits;            ///< (steps, R, V) when keep_step_logits
};

/// Generates `group_size` completions for each prompt. Prompts of different lengths are left-padded,
/// so under greedy decoding every row gets exactly the tokens it gets alone. Throws seer::Error on bad
/// input (empty prompt, image count mismatch, group_size < 1).
Generation generate(Vlm& model, const std::vector<Prompt>& prompts, int64_t group_size, const SamplingParams& params);

}  // namespace seer::model
