#include "reward/text_match.h"

#include <utf8proc.h>

#include "reward/unicode.h"

namespace seer::reward {
namespace {

/// Punctuation dropped by text matching. Characters that change a meaning are kept (issue 21): relations, signs,
/// brackets and the backslash, so "x<1" never equals "x>1" and "[-1,0)" never equals "[-1,0]".
bool is_punctuation(utf8proc_int32_t cp) {
  if (cp < 0x80) {
    for (char keep : {'<', '>', '=', '+', '-', '(', ')', '[', ']', '{', '}', '\\'}) {
      if (cp == keep) return false;
    }
    return (cp >= '!' && cp <= '/') || (cp >= ':' && cp <= '@') || (cp >= '[' && cp <= '`') || (cp >= '{' && cp <= '~');
  }
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS: case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF: case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_unicode_space(utf8proc_int32_t cp) {
  return cp < 0x80 ? is_space(static_cast<char>(cp)) : utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}

}  // namespace

std::string normalize_text(std::string_view text) {
  const std::string folded = nfkc_casefold(text);
  std::string out;
  bool pending_space = false;
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(folded.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(folded.size());
  while (left > 0) {
    utf8proc_int32_t cp = 0;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {  // invalid byte: keep it as is
      n = 1;
      cp = -1;
    }
    if (cp >= 0 && is_unicode_space(cp)) {
      pending_space = !out.empty();
    } else if (cp < 0 || !is_punctuation(cp)) {
      if (pending_space) out += ' ';
      pending_space = false;
      out.append(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
    }
    p += n;
    left -= n;
  }
  for (std::string_view article : {"a ", "an ", "the "}) {
    if (out.size() > article.size() && out.compare(0, article.size(), article) == 0) {
      out.erase(0, article.size());
      break;
    }
  }
  return out;
}

double text_accuracy(std::string_view answer, std::string_view gold) {
  const std::string g = normalize_text(gold);
  return !g.empty() && normalize_text(answer) == g ? 1.0 : 0.0;
}

}  // namespace seer::reward
