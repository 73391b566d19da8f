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
class Tokenizer;
struct ImageGeometry;
}

namespace seer::rollout {

/// Row `r` of `gen`: its generated ids (the stop token included), `lengths[r]` of them.
std::vector<int32_t> completion_ids(const model::Generation& gen, int64_t r);

/// Row `r` of `gen`: its behaviour log-probs (one per completion id).
std::vector<float> completion_logprobs(const model::Generation& gen, int64_t r);

/// How many leading `ids` to keep so that the completion ends where the earliest of `stops` first appears
/// in its decoded text (special tokens skipped), the token that completes the stop string included;
/// ids.size() when none appears or `stops` is empty. The learner trains on exactly the kept tokens, so the
/// policy is never credited for text the reward service cut away. Binary search over prefixes (a prefix's
/// text is a prefix of the whole text): O(log n) decodes.
size_t cut_at_stop_strings(const model::Tokenizer& tokenizer, const std::vector<int32_t>& ids,
                           const std::vector<std::string>& stops);

/// The reward request of one completion: text decoded without special tokens (the stop token goes),
/// the template's assistant prefill, truncated when it hit `max_new_tokens` without a stop token, and the
/// prompt's (first) image's original and model-input sizes (all 0 for a prompt without an image).
reward::Sample reward_sample(const model::ModelInputs& inputs, const std::vector<int32_t>& ids, bool truncated,
                             const std::string& gold, const std::string& answer_type,
                             const std::vector<std::string>& options, int64_t max_new_tokens,
                             const model::ImageGeometry& image);

}  // namespace seer::rollout
