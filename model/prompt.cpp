#include "model/prompt.h"

#include "core/check.h"

namespace seer::model {

std::vector<int32_t> expand_image_placeholders(const std::vector<int32_t>& ids, int32_t image_token_id, int64_t features,
                                               int* images) {
  std::vector<int32_t> out;
  out.reserve(ids.size());
  int count = 0;
  for (int32_t id : ids) {
    if (id == image_token_id) {
      ++count;
      out.insert(out.end(), static_cast<size_t>(features), id);
    } else {
      out.push_back(id);
    }
  }
  if (images != nullptr) *images = count;
  return out;
}

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
  int images = 0;
  out.ids = expand_image_placeholders(tokenizer.encode(out.text, false), spec.image_token_id, spec.image_features, &images);
  SEER_CHECK(images == (with_image ? 1 : 0),
             "{}: the rendered prompt holds {} image placeholder tokens (id {}) for {} image(s); does the question "
             "itself contain an image token?", sample, images, spec.image_token_id, with_image ? 1 : 0);
  SEER_CHECK(static_cast<int64_t>(out.ids.size()) <= spec.max_prompt_tokens,
             "{}: prompt is {} tokens, over data.max_prompt_tokens = {}; skipped (truncating would cut through the "
             "image placeholders)", sample, out.ids.size(), spec.max_prompt_tokens);
  return out;
}

}  // namespace seer::model
