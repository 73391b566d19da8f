#include "reward/choice.h"

#include <cctype>

#include "reward/unicode.h"

namespace seer::reward {
namespace {

bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
char upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }
char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

std::string letters_of(const std::vector<std::string>& options) {
  if (options.empty()) return "ABCDE";
  std::string letters;
  for (const auto& o : options) {
    std::string_view t = trim(o);
    if (!t.empty() && std::isalpha(static_cast<unsigned char>(t[0]))) letters += upper(t[0]);
  }
  return letters;
}

bool offered(char c, const std::string& letters) { return letters.find(c) != std::string::npos; }

/// Skips spaces and decorations ("(", "**", "\boxed{", "\text{") before an answer letter.
size_t skip_decorations(std::string_view s, size_t i) {
  for (;;) {
    while (i < s.size() && is_space(s[i])) ++i;
    if (s.substr(i, 1) == "(" || s.substr(i, 1) == "[") ++i;
    else if (s.substr(i, 2) == "**") i += 2;
    else if (s.substr(i, 7) == "\\boxed{") i += 7;
    else if (s.substr(i, 6) == "\\text{") i += 6;
    else return i;
  }
}

/// Last letter introduced by "answer is", "answer:", "answer is:" (case-insensitive "answer").
std::optional<char> explicit_answer(std::string_view s, const std::string& letters) {
  std::optional<char> found;
  for (size_t at = 0; at + 6 <= s.size(); ++at) {
    bool word = true;
    for (size_t k = 0; k < 6 && word; ++k) word = lower(s[at + k]) == "answer"[k];
    if (!word || (at > 0 && is_alnum(s[at - 1]))) continue;
    size_t i = at + 6;
    while (i < s.size() && is_space(s[i])) ++i;
    bool introduced = false;
    if (s.substr(i, 2) == "is" && (i + 2 == s.size() || !is_alnum(s[i + 2]))) {
      i += 2;
      introduced = true;
      while (i < s.size() && is_space(s[i])) ++i;
    }
    if (i < s.size() && s[i] == ':') {
      ++i;
      introduced = true;
    }
    if (!introduced) continue;
    i = skip_decorations(s, i);
    if (i < s.size() && offered(s[i], letters) && (i + 1 == s.size() || !is_alnum(s[i + 1]))) found = s[i];
  }
  return found;
}

/// The whole text is one option: "B", "b", "(B)", "B.", "B)", "B:", "B: text", "B. text", "Option B".
std::optional<char> whole_option(std::string_view s, const std::string& letters) {
  s = trim(s);
  for (std::string_view prefix : {"Option ", "option ", "Choice ", "choice "}) {
    if (s.substr(0, prefix.size()) == prefix) {
      s = trim(s.substr(prefix.size()));
      break;
    }
  }
  if (s.size() >= 3 && s[0] == '(' && s[2] == ')') {
    const char c = upper(s[1]);
    if (std::isalpha(static_cast<unsigned char>(s[1])) && (s.size() == 3 || is_space(s[3]))) {
      return offered(c, letters) ? std::optional<char>(c) : std::nullopt;
    }
    return std::nullopt;
  }
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return std::nullopt;
  const char c = upper(s[0]);
  if (s.size() == 1) return offered(c, letters) ? std::optional<char>(c) : std::nullopt;
  // Upper-case letter followed by a delimiter and optional text.
  if (s[0] != c) return std::nullopt;
  if (s[1] == '.' || s[1] == ')' || s[1] == ':') {
    if (s.size() == 2 || is_space(s[2])) return offered(c, letters) ? std::optional<char>(c) : std::nullopt;
  }
  return std::nullopt;
}

/// Distinct standalone capitals from the option set in prose; the letter when exactly one.
std::optional<char> single_capital(std::string_view s, const std::string& letters) {
  std::optional<char> seen;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!offered(c, letters)) continue;
    if ((i > 0 && is_alnum(s[i - 1])) || (i + 1 < s.size() && is_alnum(s[i + 1]))) continue;
    if (seen && *seen != c) return std::nullopt;  // two different letters: ambiguous
    seen = c;
  }
  return seen;
}

}  // namespace

std::optional<char> parse_choice(std::string_view text, const std::vector<std::string>& options) {
  const std::string letters = letters_of(options);
  if (auto c = explicit_answer(text, letters)) return c;
  if (auto c = whole_option(text, letters)) return c;
  return single_capital(text, letters);
}

}  // namespace seer::reward
