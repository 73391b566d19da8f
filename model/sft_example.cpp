#include "model/sft_example.h"

#include "core/check.h"

namespace seer::model {
namespace {

/// Tokens of `text` with image placeholders expanded; `images` counts them.
std::vector<int32_t> tokens_of(const Tokenizer& tok, const PromptSpec& spec, const std::string& text,
                               const std::string& sample, int* images = nullptr) {
  try {
    return expand_image_placeholders(tok.encode(text, false), spec.image_token_id, spec.image_tokens, images);
  } catch (const Error& e) {
    SEER_FAIL("{}: {}; does the conversation's text itself contain an image token?", sample, e.what());
  }
}

}  // namespace

SftExample build_sft_example(const Tokenizer& tok, const PromptSpec& spec, const std::vector<ChatMessage>& conversation,
                             const std::string& sample) {
  ChatOptions options;
  options.bos_token = spec.bos_token;
  options.eos_token = spec.eos_token;
  std::vector<ChatMessage> messages;
  if (!spec.system_prompt.empty() && (conversation.empty() || conversation[0].role != "system")) {
    messages.push_back({"system", {{ChatPart::kText, spec.system_prompt}}, {}, {}});
  }
  SftExample ex;
  bool any_assistant = false;
  int images = 0;
  for (const ChatMessage& m : conversation) {
    if (m.role != "assistant") {
      messages.push_back(m);
      continue;
    }
    any_assistant = true;
    ChatOptions with_prompt = options;
    with_prompt.add_generation_prompt = true;
    const std::vector<int32_t> before = tokens_of(tok, spec, render_chat(spec.family, messages, with_prompt), sample);
    messages.push_back(m);
    const std::vector<int32_t> after = tokens_of(tok, spec, render_chat(spec.family, messages, options), sample, &images);
    SEER_CHECK(after.size() >= before.size() && std::equal(before.begin(), before.end(), after.begin()),
               "{}: the chat template's tokens before an assistant turn are not a prefix of the tokens with it; "
               "cannot tell which tokens to train on", sample);
    SEER_CHECK(before.size() >= ex.ids.size() && std::equal(ex.ids.begin(), ex.ids.end(), before.begin()),
               "{}: the conversation's tokens changed when a turn was added", sample);
    // Context since the last assistant turn is not trained on; the assistant turn is.
    ex.target.resize(before.size(), 0);
    ex.target.resize(after.size(), 1);
    ex.ids = after;
  }
  SEER_CHECK(any_assistant, "{}: the conversation has no assistant turn to train on", sample);
  SEER_CHECK(images == static_cast<int>(spec.image_tokens.size()),
             "{}: the rendered conversation holds {} image placeholder tokens (id {}) for {} image(s)", sample, images,
             spec.image_token_id, spec.image_tokens.size());
  SEER_CHECK(static_cast<int64_t>(ex.ids.size()) <= spec.max_prompt_tokens,
             "{}: the conversation is {} tokens, over the {}-token limit; skipped (truncating would cut through the "
             "image placeholders or the answer)", sample, ex.ids.size(), spec.max_prompt_tokens);
  return ex;
}

}  // namespace seer::model
