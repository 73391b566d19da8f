#include "model/prompt.h"

#include "core/check.h"

namespace seer::model {

PromptTokens build_prompt(const Tokenizer& tokenizer, const PromptSpec& spec, const std::string& question,
                          bool with_image, const std::string& sample) {
  std::vector<ChatMessage> messages;
  if (!spec.system_prompt.empty()) messages.push_back({"system", {{ChatPart::kText, spec.system_prompt}}, {}, {}});
  ChatMessage user{"user", {}, {}, {}};
  if (with_image) user.parts.push_back({ChatPart::kImage, ""});
  user.parts.push_back({ChatPart::kText, question});
  messages.push_back(std::move(user));
  ChatOptions options;
  options.add_generation_prompt = true;
  options.bos_token = spec.bos_token;
  options.eos_token = spec.eos_token;
  PromptTokens out;
  out.prefill = spec.assistant_prefill;
  out.text = render_chat(spec.family, messages, options) + spec.assistant_prefill;
  const std::vector<int32_t> ids = tokenizer.encode(out.text, false);
  int images = 0;
  for (int32_t id : ids) {
    if (id == spec.image_token_id) {
      ++images;
      out.ids.insert(out.ids.end(), static_cast<size_t>(spec.image_features), id);
    } else {
      out.ids.push_back(id);
    }
  }
  SEER_CHECK(images == (with_image ? 1 : 0),
             "{}: the rendered prompt holds {} image placeholder tokens (id {}) for {} image(s); does the question "
             "itself contain an image token?", sample, images, spec.image_token_id, with_image ? 1 : 0);
  SEER_CHECK(static_cast<int64_t>(out.ids.size()) <= spec.max_prompt_tokens,
             "{}: prompt is {} tokens, over data.max_prompt_tokens = {}; skipped (truncating would cut through the "
             "image placeholders)", sample, out.ids.size(), spec.max_prompt_tokens);
  return out;
}

}  // namespace seer::model
