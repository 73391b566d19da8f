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
  std::vector<int64_t> image_tokens;  ///< placeholder tokens of each image of the prompt after expansion, in order
  int64_t max_prompt_tokens = 1 << 30;
  std::string bos_token, eos_token;
};

struct PromptTokens {
  std::vector<int32_t> ids;  ///< with image placeholders expanded
  std::string text;          ///< rendered text (one placeholder per image)
  std::string prefill;       ///< the assistant prefill included at the end
};

/// `ids` with the k-th `image_token_id` repeated `counts[k]` times; `images` (if given) counts the placeholders.
/// Throws seer::Error when there are more placeholders than counts.
std::vector<int32_t> expand_image_placeholders(const std::vector<int32_t>& ids, int32_t image_token_id,
                                               const std::vector<int64_t>& counts, int* images = nullptr);

/// The user turn of an RL question with `images` images: each "<image>" tag of the question becomes an image
/// item in place; a question without tags gets every image before its text, then `separator` (LLaVA: "\n").
/// Throws seer::Error naming `sample` when the question has tags but not one per image.
std::vector<ChatPart> question_parts(const std::string& question, size_t images, const std::string& separator,
                                     const std::string& sample);

/// Renders and tokenizes one user turn (`user`: text and image items; one image item per
/// spec.image_tokens entry). Throws seer::Error naming `sample` when the prompt is longer than
/// spec.max_prompt_tokens, or when the rendered prompt does not hold exactly one placeholder token per image.
PromptTokens build_prompt(const Tokenizer& tokenizer, const PromptSpec& spec, const std::vector<ChatPart>& user,
                          const std::string& sample);

}  // namespace seer::model
