// Generation on several threads at once for the small batches of a rollout worker. Each decode step of G rows is a
// handful of small matrix products whose intra-op parallelism barely pays (the `small` preset, G 8, 64 new tokens:
// 210 tokens/s on 1 thread, 214 on 2), while independent rows scale with cores. So the worker's threads become
// lanes: separate generate() calls on shares of the rows, one intra-op thread each (bench/run_bench.sh).
#pragma once

#include <cstdint>
#include <vector>

#include "model/generate.h"

namespace seer::rollout {

/// generate() of `prompts` x `group_size` rows on `lanes` threads. With at least `lanes` prompts each lane takes a
/// contiguous share of the prompts (one prefill per prompt, as before); with fewer, each prompt's samples are shared
/// out (every lane prefills the prompt itself). Lane l samples with params.seed + l. Rows come back in generate()'s
/// order (prompt-major: prompt p's samples are rows p*G .. p*G+G-1); tokens and logprobs are padded (pad id 0, log-prob
/// 0) to the longest lane, which the lengths say. `lanes` <= 1, one row per lane not possible, or keep_step_logits:
/// one plain generate() call. The caller's intra-op thread count is restored on return. Throws what generate() throws.
model::Generation generate_in_lanes(model::Vlm& model, const std::vector<model::Prompt>& prompts, int64_t group_size,
                                    const model::SamplingParams& params, int lanes);

}  // namespace seer::rollout
