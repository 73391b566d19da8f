#include "model/prompt.h"

#include "core/check.h"

namespace seer::model {

std::vector<int32_t> expand_image_placeholders(const std::vector<int32_t>& ids, int32_t image_token_id,
                                               const std::vector<int64_t>& counts, int* images) {
  std::vector<int32_t> out;
  out.reserve(ids.size());
  size_t count = 0;
  for (int32_t id : ids) {
    if (id == image_token_id) {
      SEER_CHECK(count < counts.size(), "{} image placeholder tokens (id {}) for {} image(s)", count + 1, image_token_id,
                 counts.size());
      out.insert(out.end(), static_cast<size_t>(counts[count++]), id);
    } else {
      out.push_back(id);
    }
  }
  if (images != nullptr) *images = static_cast<int>(count);
  return out;
}

std::vector<ChatPart> question_parts(const std::string& question, size_t images, const std::string& separator,
                                     const std::string& sample) {
  static const std::string kTag = "<image>";
  std::vector<ChatPart> parts;
  size_t tags = 0, pos = 0;
  while (true) {
    const size_t at = question.find(kTag, pos);
    const std::string text = question.substr(pos, at == std::string::npos ? std::string::npos : at - pos);
    if (!text.empty()) parts.push_back({ChatPart::kText, text});
    if (at == std::string::npos) break;
    parts.push_back({ChatPart::kImage, ""});
    ++tags;
    pos = at + kTag.size();
  }
  if (tags == 0) {
    std::vector<ChatPart> out(images, ChatPart{ChatPart::kImage, ""});
    out.push_back({ChatPart::kText, images > 0 ? separator + question : question});
    return out;
  }
  SEER_CHECK(tags == images, "{}: the question holds {} '<image>' tag(s) for {} image(s); tag every image, in order, "
             "or none", sample, tags, images);
  return parts;
}

PromptTokens build_prompt(const Tokenizer& tokenizer, const PromptSpec& spec, const std::vector<ChatPart>& user,
                          const std::string& sample) {
  std::vector<ChatMessage> messages;
  if (!spec.system_prompt.empty()) messages.push_back({"system", {{ChatPart::kText, spec.system_prompt}}, {}, {}});
  messages.push_back({"user", user, {}, {}});
  ChatOptions options;
  options.add_generation_prompt = true;
  options.bos_token = spec.bos_token;
  options.eos_token = spec.eos_token;
  PromptTokens out;
  out.prefill = spec.assistant_prefill;
  out.text = render_chat(spec.family, messages, options) + spec.assistant_prefill;
  size_t expected = 0;
  for (const ChatPart& p : user) expected += p.kind == ChatPart::kImage;
  SEER_CHECK(expected == spec.image_tokens.size(), "{}: {} image item(s) but {} image token count(s) (seer bug)",
             sample, expected, spec.image_tokens.size());
  int images = 0;
  try {
    out.ids = expand_image_placeholders(tokenizer.encode(out.text, false), spec.image_token_id, spec.image_tokens,
                                        &images);
  } catch (const Error&) {
    images = -1;  // more placeholders than images: reported below
  }
  SEER_CHECK(images == static_cast<int>(expected),
             "{}: the rendered prompt holds {} image placeholder tokens (id {}) for {} image(s); does the question "
             "itself contain an image token?", sample, images < 0 ? "more" : std::to_string(images), spec.image_token_id,
             expected);
  SEER_CHECK(static_cast<int64_t>(out.ids.size()) <= spec.max_prompt_tokens,
             "{}: prompt is {} tokens, over data.max_prompt_tokens = {}; skipped (truncating would cut through the "
             "image placeholders)", sample, out.ids.size(), spec.max_prompt_tokens);
  return out;
}

}  // namespace seer::model
