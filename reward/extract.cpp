#include "reward/extract.h"

#include "reward/unicode.h"

namespace seer::reward {
namespace {

constexpr std::string_view kOpen = "<answer>";
constexpr std::string_view kClose = "</answer>";

/// match[i] = index of the brace that closes/opens the one at i, or -1. Backslash escapes the next
/// character, so "\{" and "\}" (LaTeX set braces) are not grouping braces. O(n).
std::vector<int> match_braces(std::string_view s) {
  std::vector<int> match(s.size(), -1);
  std::vector<int> open;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '\\') {
      ++i;
    } else if (c == '{') {
      open.push_back(static_cast<int>(i));
    } else if (c == '}' && !open.empty()) {
      match[static_cast<size_t>(open.back())] = static_cast<int>(i);
      match[i] = open.back();
      open.pop_back();
    }
  }
  return match;
}

bool starts_with(std::string_view s, size_t b, size_t e, std::string_view p) {
  return e - b >= p.size() && s.substr(b, p.size()) == p;
}

bool ends_with(std::string_view s, size_t b, size_t e, std::string_view p) {
  return e - b >= p.size() && s.substr(e - p.size(), p.size()) == p;
}

/// Position of the last "\boxed" or "\fbox" command, or npos.
size_t last_box(std::string_view s, size_t& name_len) {
  const size_t boxed = s.rfind("\\boxed");
  const size_t fbox = s.rfind("\\fbox");
  if (boxed == std::string_view::npos && fbox == std::string_view::npos) return std::string_view::npos;
  if (fbox == std::string_view::npos || (boxed != std::string_view::npos && boxed > fbox)) {
    name_len = 6;
    return boxed;
  }
  name_len = 5;
  return fbox;
}

/// One round of wrapper stripping on [b, e); returns true if it removed something.
bool strip_once(std::string_view s, const std::vector<int>& match, size_t& b, size_t& e) {
  const size_t b0 = b, e0 = e;
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  if (e - b >= 2 && s[b] == '$' && s[e - 1] == '$') {
    size_t k = 0;  // pairs of $ to remove; a trailing "\$" is a literal dollar, not a delimiter
    while (b + k < e - 1 - k && s[b + k] == '$' && s[e - 1 - k] == '$' && !(e - 1 - k > 0 && s[e - 2 - k] == '\\')) {
      ++k;
    }
    b += k;
    e -= k;
  }
  if (e - b >= 4 && ((starts_with(s, b, e, "\\(") && ends_with(s, b, e, "\\)")) ||
                     (starts_with(s, b, e, "\\[") && ends_with(s, b, e, "\\]")) ||
                     (starts_with(s, b, e, "**") && ends_with(s, b, e, "**")))) {
    b += 2;
    e -= 2;
  }
  for (std::string_view cmd : {std::string_view("\\textbf{"), std::string_view("\\text{")}) {
    if (starts_with(s, b, e, cmd) && match[b + cmd.size() - 1] == static_cast<int>(e - 1)) {
      b += cmd.size();
      e -= 1;
      break;
    }
  }
  if (e > b && s[e - 1] == '.' && !(e - b >= 2 && s[e - 2] == '.')) --e;
  return b != b0 || e != e0;
}

}  // namespace

std::string_view cut_at_stop(std::string_view completion, const std::vector<std::string>& stop) {
  size_t cut = completion.size();
  for (const auto& s : stop) {
    if (s.empty()) continue;
    const size_t at = completion.find(s);
    if (at < cut) cut = at;
  }
  return completion.substr(0, cut);
}

AnswerBlock last_answer_block(std::string_view text) {
  const size_t close = text.rfind(kClose);
  if (close == std::string_view::npos || close < kOpen.size()) return {};
  const size_t open = text.rfind(kOpen, close - kOpen.size());
  if (open == std::string_view::npos) return {};
  return {true, text.substr(open + kOpen.size(), close - open - kOpen.size())};
}

Extracted normalize_answer(std::string_view answer) {
  const std::string s = nfkc(answer);
  const std::vector<int> match = match_braces(s);
  size_t b = 0, e = s.size();
  size_t name_len = 0;
  const size_t box = last_box(s, name_len);
  bool malformed = false;
  if (box != std::string_view::npos) {
    size_t brace = box + name_len;
    while (brace < s.size() && s[brace] == ' ') ++brace;
    if (brace < s.size() && s[brace] == '{' && match[brace] > static_cast<int>(brace)) {
      b = brace + 1;
      e = static_cast<size_t>(match[brace]);
    } else {
      malformed = true;  // "\boxed{..." never closed, or "\boxed42"
    }
  }
  while (strip_once(s, match, b, e)) {
  }
  Extracted out;
  out.text = s.substr(b, e - b);
  out.kind = malformed ? Extracted::kMalformed : (out.text.empty() ? Extracted::kNone : Extracted::kOk);
  return out;
}

Extracted extract_answer(std::string_view scored_text) {
  const AnswerBlock block = last_answer_block(scored_text);
  if (!block.found) return {};
  return normalize_answer(block.content);
}

Extracted normalize_gold(std::string_view gold) {
  const AnswerBlock block = last_answer_block(gold);
  return normalize_answer(block.found ? block.content : gold);
}

}  // namespace seer::reward
