// From a generated row to what the reward service scores: the row's tokens cut to its length, and the
// reward::Sample built from them exactly as training and evaluation both need it (prefill recorded,
// truncation flag, gold, answer type, token counts).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/generate.h"
#include "reward/types.h"

namespace seer::model {
class ModelInputs;
}

namespace seer::rollout {

/// Row `r` of `gen`: its generated ids (the stop token included), `lengths[r]` of them.
std::vector<int32_t> completion_ids(const model::Generation& gen, int64_t r);

/// Row `r` of `gen`: its behaviour log-probs (one per completion id).
std::vector<float> completion_logprobs(const model::Generation& gen, int64_t r);

/// The reward request of one completion: text decoded without special tokens (the stop token goes),
/// the template's assistant prefill, truncated when it hit `max_new_tokens` without a stop token.
reward::Sample reward_sample(const model::ModelInputs& inputs, const std::vector<int32_t>& ids, bool truncated,
                             const std::string& gold, const std::string& answer_type,
                             const std::vector<std::string>& options, int64_t max_new_tokens);

}  // namespace seer::rollout
