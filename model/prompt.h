// Building a model prompt from a dataset question: chat template (system prompt, user turn with the
// image item, generation prompt, optional assistant prefill such as "<think>\n"), tokenization, and the
// image placeholder expanded to the number of image features. A prompt over the length limit is refused
// as a whole — truncating would cut through the image's placeholder span.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/chat_template.h"
#include "model/tokenizer.h"

namespace seer::model {

struct PromptSpec {
  ChatFamily family = ChatFamily::kChatml;
  std::string system_prompt;      ///< "" = none
  std::string assistant_prefill;  ///< text the assistant turn starts with; the reward scores prefill + completion
  int32_t image_token_id = -1;    ///< the placeholder token (LLaVA "<image>", Qwen "<|image_pad|>")
  int64_t image_features = 0;     ///< placeholder tokens per image after expansion
  int64_t max_prompt_tokens = 1 << 30;
  std::string bos_token, eos_token;
};

struct PromptTokens {
  std::vector<int32_t> ids;  ///< with image placeholders expanded
  std::string text;          ///< rendered text (one placeholder per image)
  std::string prefill;       ///< the assistant prefill included at the end
};

/// `ids` with every `image_token_id` repeated `features` times; `images` (if given) counts the placeholders.
std::vector<int32_t> expand_image_placeholders(const std::vector<int32_t>& ids, int32_t image_token_id, int64_t features,
                                               int* images = nullptr);

/// Renders and tokenizes one question (with one image when `with_image`). Throws seer::Error naming
/// `sample` when the prompt is longer than spec.max_prompt_tokens, or when the rendered prompt does not hold
/// exactly one placeholder token per image.
PromptTokens build_prompt(const Tokenizer& tokenizer, const PromptSpec& spec, const std::string& question, bool with_image,
                     const std::string& sample);

}  // namespace seer::model
