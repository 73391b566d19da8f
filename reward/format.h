// The format reward (contract section 3): exactly one non-blank <think> block, then exactly one
// non-blank <answer> block, only whitespace around them, no vision placeholder anywhere. Linear, never throws.
#pragma once

#include <string_view>

namespace seer::reward {

/// 1.0 when `scored_text` (prefill + cut completion) follows the template, else 0.0; always 0.0 when
/// `truncated` (the completion hit max_new_tokens without a stop token).
double format_reward(std::string_view scored_text, bool truncated);

}  // namespace seer::reward
