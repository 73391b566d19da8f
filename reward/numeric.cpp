#include "reward/numeric.h"

#include <cmath>
#include <cstdlib>

#include "reward/math_expr.h"
#include "reward/unicode.h"

namespace seer::reward {
namespace {

bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

std::string normalise_unit(std::string_view unit) {
  unit = trim(unit);
  static const std::pair<std::string_view, std::string_view> kSynonyms[] = {
      {"\\%", "%"},       {"percent", "%"},     {"percentage", "%"}, {"pct", "%"},      {"^\\circ", "°"},   {"^{\\circ}", "°"}, {"\\circ", "°"},
      {"degrees", "°"},   {"degree", "°"},      {"\\$", "$"},       {"dollars", "$"},   {"dollar", "$"}};
  for (const auto& [from, to] : kSynonyms) {
    if (unit == from) return std::string(to);
  }
  return std::string(unit);
}

/// Splits "NUMBER UNIT" into its parts; the unit is normalised. False when the shape does not fit.
bool split_unit(std::string_view s, std::string_view& number, std::string& unit) {
  s = trim(s);
  std::string currency;
  if (s.substr(0, 2) == "\\$") {
    currency = "$";
    s.remove_prefix(2);
  } else if (!s.empty() && s[0] == '$') {
    currency = "$";
    s.remove_prefix(1);
  }
  s = trim(s);
  std::string suffix;
  static const std::string_view kSymbols[] = {"\\%", "%", "^{\\circ}", "^\\circ", "\\circ", "°"};
  bool found = false;
  for (std::string_view sym : kSymbols) {
    if (ends_with(s, sym)) {
      suffix = normalise_unit(sym == "%" ? "\\%" : sym == "°" ? "^\\circ" : sym);
      s.remove_suffix(sym.size());
      found = true;
      break;
    }
  }
  if (!found && !s.empty() && s.back() == '}') {
    for (std::string_view cmd : {std::string_view("\\text{"), std::string_view("\\mathrm{"), std::string_view("\\mbox{"),
                                 std::string_view("\\textnormal{"), std::string_view("\\textbf{"),
                                 std::string_view("\\textrm{")}) {
      const size_t at = s.rfind(cmd);
      if (at != std::string_view::npos && s.find('}', at) == s.size() - 1) {
        suffix = normalise_unit(s.substr(at + cmd.size(), s.size() - 1 - at - cmd.size()));
        s = s.substr(0, at);
        found = true;
        break;
      }
    }
  }
  if (!found) {
    // Trailing words: "2 bpm", "5 apples", "3 m/s" (at most 3 words, 24 characters).
    size_t j = s.size();
    while (j > 0 && (is_alpha(s[j - 1]) || s[j - 1] == '/' || s[j - 1] == ' ')) --j;
    std::string_view word = trim(s.substr(j));
    int spaces = 0;
    for (char c : word) spaces += c == ' ';
    if (!word.empty() && is_alpha(word[0]) && word.size() <= 24 && spaces <= 2) {
      suffix = normalise_unit(word);
      s = s.substr(0, j);
    }
  }
  if (!currency.empty() && !suffix.empty() && suffix != currency) return false;
  unit = !suffix.empty() ? suffix : currency;
  number = trim(s);
  return !number.empty();
}

/// "1,000,000.5" -> "1000000.5" when the commas are thousands separators; "1{,}000" likewise.
std::string drop_thousands(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s.substr(i, 3) == "{,}") {
      i += 2;
      continue;
    }
    out += s[i];
  }
  // Only a valid grouping is a thousands separator: digits{1,3} (,digits{3})+ before any decimal point.
  if (out.find(',') == std::string::npos) return out;
  size_t i = (out[0] == '-' || out[0] == '+') ? 1 : 0;
  size_t lead = 0;
  while (i < out.size() && is_digit(out[i])) ++i, ++lead;
  if (lead == 0 || lead > 3 || out[i - lead] == '0') return out;  // "0,111" is not a thousands grouping
  while (i < out.size() && out[i] == ',') {
    for (int k = 1; k <= 3; ++k) {
      if (i + k >= out.size() || !is_digit(out[i + k])) return out;
    }
    i += 4;
  }
  if (i != out.size() && out[i] != '.') return out;
  if (out.find(',', i) != std::string::npos) return out;
  std::string clean;
  for (char c : out) {
    if (c != ',') clean += c;
  }
  return clean;
}

bool plain_decimal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (i >= s.size() || !is_digit(s[i])) return false;
    while (i < s.size() && is_digit(s[i])) ++i;
  }
  return i == s.size();
}

}  // namespace

std::optional<Quantity> parse_quantity(std::string_view text, const Deadline& deadline) {
  std::string_view number;
  Quantity q;
  if (!split_unit(text, number, q.unit)) return std::nullopt;
  const std::string clean = drop_thousands(number);
  if (plain_decimal(clean)) {
    q.value = std::strtod(clean.c_str(), nullptr);
    if (!std::isfinite(q.value)) return std::nullopt;
    return q;
  }
  auto v = eval_constant(clean, deadline);
  if (!v) return std::nullopt;
  q.value = *v;
  return q;
}

bool looks_numeric(std::string_view text) {
  std::string_view number;
  std::string unit;
  if (!split_unit(text, number, unit)) return false;
  return plain_decimal(drop_thousands(number));
}

double numeric_accuracy(const Quantity& answer, const Quantity& gold, double rel_tol) {
  if (!answer.unit.empty() && !gold.unit.empty() && answer.unit != gold.unit) return 0.0;
  return numbers_equal(answer.value, gold.value, rel_tol) ? 1.0 : 0.0;
}

}  // namespace seer::reward
