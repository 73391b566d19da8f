// Supervised fine-tuning examples: a conversation rendered with the chat template and tokenized, with a
// target mask on the assistant turns only (their content and the end-of-turn text the template adds),
// the image placeholder expanded to the number of image features (the LLaVA training recipe).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/chat_template.h"
#include "model/prompt.h"
#include "model/tokenizer.h"

namespace seer::model {

struct SftExample {
  std::vector<int32_t> ids;  ///< whole conversation, image placeholders expanded
  std::vector<uint8_t> target;  ///< 1 where the token is trained on (assistant text), 0 elsewhere
};

/// Builds an example from `conversation` (roles user/assistant/system; image items where the image goes).
/// Each assistant turn's tokens are found by rendering the conversation up to that turn with and without
/// it; throws seer::Error naming `sample` when the template's tokenization is not prefix-stable there, when
/// there is no assistant turn, or when the example exceeds spec.max_prompt_tokens.
SftExample build_sft_example(const Tokenizer& tokenizer, const PromptSpec& spec, const std::vector<ChatMessage>& conversation,
                             const std::string& sample);

}  // namespace seer::model
