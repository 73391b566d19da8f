#include "reward/format.h"

#include "reward/unicode.h"

namespace seer::reward {
namespace {

constexpr std::string_view kTags[] = {"<think>", "</think>", "<answer>", "</answer>"};
constexpr std::string_view kVisionTokens[] = {"<image>", "<|image_pad|>", "<|video_pad|>", "<|vision_start|>",
                                              "<|vision_end|>"};

bool has_tag(std::string_view s) {
  for (auto tag : kTags) {
    if (s.find(tag) != std::string_view::npos) return true;
  }
  return false;
}

/// Parses "<open>body</close>" at the start of `s`; body must be non-blank and tag-free. Advances `s`.
bool take_block(std::string_view& s, std::string_view open, std::string_view close) {
  if (s.substr(0, open.size()) != open) return false;
  s.remove_prefix(open.size());
  const size_t end = s.find(close);
  if (end == std::string_view::npos) return false;
  const std::string_view body = s.substr(0, end);
  if (trim(body).empty() || has_tag(body)) return false;
  s.remove_prefix(end + close.size());
  return true;
}

}  // namespace

double format_reward(std::string_view text, bool truncated) {
  if (truncated) return 0.0;
  for (auto token : kVisionTokens) {
    if (text.find(token) != std::string_view::npos) return 0.0;
  }
  std::string_view s = trim(text);
  if (!take_block(s, "<think>", "</think>")) return 0.0;
  s = trim(s);
  if (!take_block(s, "<answer>", "</answer>")) return 0.0;
  return trim(s).empty() ? 1.0 : 0.0;
}

}  // namespace seer::reward
