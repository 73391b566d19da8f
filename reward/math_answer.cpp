#include "reward/math_answer.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace seer::reward {
namespace {

// Internal markers that normalize() writes for notations with several spellings. A marker byte that arrives in
// the input means the same thing; nothing else reads them.
constexpr char kLe = '\x01', kGe = '\x02', kNe = '\x03', kPm = '\x04', kMp = '\x05', kCup = '\x06', kIn = '\x07',
               kApprox = '\x08';

bool alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool digit(char c) { return c >= '0' && c <= '9'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

/// One spelling to one canonical form, in a single left-to-right pass (linear). A LaTeX command matches
/// only at a command boundary (`\le` is not the start of `\left`).
std::string normalize(std::string_view s) {
  struct Rule {
    std::string_view from, to;
  };
  static const Rule kRules[] = {
      // A matrix row break stays one token (its second backslash is not "\ ").
      {"\\\\", "\\\\"},
      // Thousands separators written ",\!" (the grouping is checked where numbers are read), and currency.
      {",\\! ", ","}, {",\\!", ","}, {"\\$", ""},
      // Spacing and sizing: nothing.
      {"\\left", ""}, {"\\right", ""}, {"\\displaystyle", ""}, {"\\bigl", ""}, {"\\bigr", ""}, {"\\Bigl", ""},
      {"\\Bigr", ""}, {"\\big", ""}, {"\\Big", ""}, {"\\!", ""}, {"\\,", " "}, {"\\;", " "}, {"\\:", " "},
      {"\\ ", " "}, {"\\quad", " "}, {"\\qquad", " "}, {"~", " "}, {"$", ""}, {"{,}", ""},
      {"\xE2\x80\x89", " "}, {"\xE2\x80\xAF", " "},  // thin and narrow no-break spaces
      // Relations.
      {"\\leqslant", "\x01"}, {"\\leq", "\x01"}, {"\\le", "\x01"}, {"<=", "\x01"}, {"\xE2\x89\xA4", "\x01"},
      {"\\geqslant", "\x02"}, {"\\geq", "\x02"}, {"\\ge", "\x02"}, {">=", "\x02"}, {"\xE2\x89\xA5", "\x02"},
      {"\\neq", "\x03"}, {"\\ne", "\x03"}, {"!=", "\x03"}, {"\xE2\x89\xA0", "\x03"}, {"\\lt", "<"}, {"\\gt", ">"},
      // \pm, \cup, \in.
      {"\\pm", "\x04"}, {"\xC2\xB1", "\x04"}, {"\\mp", "\x05"}, {"\xE2\x88\x93", "\x05"}, {"\\cup", "\x06"},
      {"\xE2\x88\xAA", "\x06"}, {"\\in", "\x07"}, {"\xE2\x88\x88", "\x07"}, {"\\approx", "\x08"},
      {"\xE2\x89\x88", "\x08"},
      // Lists joined by words.
      {"\\text{ and }", ","}, {"\\text{and}", ","}, {"\\text{ or }", ","}, {"\\text{or}", ","},
      {"\\mbox{ and }", ","}, {"\\mbox{and}", ","},
      // Degrees are a unit.
      {"^{\\circ}", ""}, {"^\\circ", ""}, {"\xC2\xB0", ""},
  };
  static const std::string_view kCommands[] = {"left", "right", "frac", "dfrac", "tfrac", "sqrt", "pi", "cdot",
                                               "infty", "le", "leq", "ge", "geq", "lt", "gt", "ne", "neq", "pm",
                                               "mp", "cup", "in", "text", "times", "boxed"};
  static const auto kFirst = [] {  // bytes that start some rule: everything else is copied as it is
    std::array<bool, 256> first{};
    for (const Rule& r : kRules) first[static_cast<unsigned char>(r.from[0])] = true;
    first[' '] = true;
    return first;
  }();
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    if (!kFirst[static_cast<unsigned char>(s[i])]) {
      out += s[i++];
      continue;
    }
    if (s.compare(i, 2, "\\\\") == 0 && i + 2 < s.size() && alpha(s[i + 2])) {
      size_t j = i + 2;
      while (j < s.size() && alpha(s[j])) ++j;
      if (std::find(std::begin(kCommands), std::end(kCommands), s.substr(i + 2, j - i - 2)) != std::end(kCommands)) {
        ++i;  // "\\\\frac" written for "\\frac" (an escaping slip): read the command
        continue;
      }
    }
    bool done = false;
    for (const Rule& r : kRules) {
      if (r.from[0] != s[i] || (r.from.size() > 1 && (i + 1 >= s.size() || r.from[1] != s[i + 1]))) continue;
      if (s.compare(i, r.from.size(), r.from) != 0) continue;
      const bool command = r.from[0] == '\\' && alpha(r.from.back());
      if (command && i + r.from.size() < s.size() && alpha(s[i + r.from.size()])) continue;
      out += r.to;
      i += r.from.size();
      done = true;
      break;
    }
    if (done) continue;
    // " and " / " or " between items.
    for (std::string_view w : {std::string_view(" and "), std::string_view(" or ")}) {
      if (!done && s.compare(i, w.size(), w) == 0) {
        out += ',';
        i += w.size();
        done = true;
      }
    }
    if (!done) out += s[i++];
  }
  return out;
}

/// Bracket depth change at s[i] and the length of the bracket token (`\{` `\}` `\begin{..}` `\end{..}` count).
int bracket_at(std::string_view s, size_t i, size_t& length) {
  length = 1;
  const char c = s[i];
  if (c == '(' || c == '[' || c == '{') return 1;
  if (c == ')' || c == ']' || c == '}') return -1;
  if (c == '\\' && i + 1 < s.size()) {
    if (s[i + 1] == '{' || s[i + 1] == '}') {
      length = 2;
      return s[i + 1] == '{' ? 1 : -1;
    }
    for (std::string_view env : {std::string_view("\\begin{"), std::string_view("\\end{")}) {
      if (s.compare(i, env.size(), env) == 0) {
        const size_t close = s.find('}', i + env.size());
        if (close == std::string_view::npos) return 0;
        length = close + 1 - i;
        return env[1] == 'b' ? 1 : -1;
      }
    }
    if (alpha(s[i + 1])) {  // a command name is one token: "\frac" never splits at its letters
      size_t j = i + 1;
      while (j < s.size() && alpha(s[j])) ++j;
      length = j - i;
    }
  }
  return 0;
}

/// Positions of the top-level characters of `s` for which `at(s, i)` holds; false on unbalanced brackets.
template <class Pred>
bool split_top(std::string_view s, Pred at, std::vector<size_t>& pos) {
  int depth = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    const int d = bracket_at(s, i, len);
    depth += d;
    if (depth < 0) return false;
    if (d == 0 && depth == 0 && len == 1 && at(s, i)) pos.push_back(i);
    i += len;
  }
  return depth == 0;
}

std::vector<std::string_view> pieces(std::string_view s, const std::vector<size_t>& cuts) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t c : cuts) {
    out.push_back(trim(s.substr(start, c - start)));
    start = c + 1;
  }
  out.push_back(trim(s.substr(start)));
  return out;
}

/// Index of the bracket token closing the one at 0, or npos.
size_t matching_close(std::string_view s) {
  int depth = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    depth += bracket_at(s, i, len);
    if (depth == 0) return i;
    i += len;
  }
  return std::string_view::npos;
}

/// A name that an answer may put on its left side: x, x_1, a_{37}, AB, f(x), x', and a tuple of such "(p, q)".
bool is_name(std::string_view s, int depth = 0) {
  s = trim(s);
  if (depth > 4) return false;
  if (const size_t colon = s.find(':'); colon != std::string_view::npos) {  // V_1:V_2, a ratio of names
    return is_name(s.substr(0, colon), depth + 1) && is_name(s.substr(colon + 1), depth + 1);
  }
  if (s.size() > 2 && s.front() == '|' && s.back() == '|') return is_name(s.substr(1, s.size() - 2), depth + 1);
  if (s.compare(0, 6, "\\frac{") == 0 && s.back() == '}') {  // \frac{NO}{BO}
    const size_t mid = s.find("}{");
    return mid != std::string_view::npos && is_name(s.substr(6, mid - 6), depth + 1) &&
           is_name(s.substr(mid + 2, s.size() - mid - 3), depth + 1);
  }
  if (s.size() >= 2 && s.front() == '(' && s.back() == ')') {
    std::vector<size_t> commas;
    const std::string_view inner = s.substr(1, s.size() - 2);
    if (!split_top(inner, [](std::string_view t, size_t i) { return t[i] == ','; }, commas)) return false;
    for (std::string_view p : pieces(inner, commas)) {
      if (!is_name(p, depth + 1)) return false;
    }
    return true;
  }
  size_t i = 0, atoms = 0;
  bool lower = false;
  while (i < s.size()) {
    if (s[i] == '\\') {  // a Greek letter
      size_t j = i + 1;
      while (j < s.size() && alpha(s[j])) ++j;
      const std::string_view cmd = s.substr(i + 1, j - i - 1);
      if (cmd.empty() || cmd == "pi" || cmd == "infty" || cmd == "frac" || cmd == "sqrt") return false;
      lower = true;
      i = j;
    } else if (alpha(s[i])) {
      lower = lower || !(s[i] >= 'A' && s[i] <= 'Z');
      ++i;
    } else {
      return false;
    }
    ++atoms;
    if (i < s.size() && s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '{') {
        const size_t close = s.find('}', i);
        if (close == std::string_view::npos) return false;
        i = close + 1;
      } else if (i < s.size() && (alpha(s[i]) || digit(s[i]))) {
        ++i;
      } else {
        return false;
      }
    }
    while (i < s.size() && s[i] == '\'') ++i;
    if (i < s.size() && s[i] == '(') {  // f(x): a function of names
      const size_t close = s.find(')', i);
      if (close == std::string_view::npos || close + 1 != s.size() ||
          !is_name(s.substr(i + 1, close - i - 1), depth + 1)) {
        return false;
      }
      return atoms <= 2;
    }
    if (i < s.size() && s[i] == ' ') ++i;
  }
  return atoms == 1 || (atoms <= 4 && !lower);  // x, a_3; AB (a segment), never xy (a product)
}

/// "1,234,567" or "1 234 567" (groups of three after the first): the number without separators, else "".
std::string thousands(std::string_view s) {
  const char sep = s.find(',') != std::string_view::npos ? ',' : ' ';
  std::string out;
  size_t i = 0, group = 0, groups = 0;
  if (i < s.size() && s[i] == '-') out += s[i++];
  for (; i < s.size(); ++i) {
    if (digit(s[i])) {
      out += s[i];
      ++group;
    } else if (s[i] == sep) {
      if ((groups == 0 && (group == 0 || group > 3 || (out.back() == '0' && group == 1))) ||
          (groups > 0 && group != 3)) {
        return "";  // "0,111" is not a thousands grouping either
      }
      group = 0;
      ++groups;
    } else if (s[i] == '.') {
      out += s.substr(i);
      for (size_t j = i + 1; j < s.size(); ++j) {
        if (!digit(s[j])) return "";
      }
      break;
    } else {
      return "";
    }
  }
  return groups > 0 && group == 3 ? out : "";
}

/// l - r over the union of both sides' variables.
Expr subtract(const Expr& l, const Expr& r) {
  Expr diff = l;
  for (Expr::Op op : r.program) {
    if (op.code == Expr::Op::kVar) {
      const std::string& name = r.variables[static_cast<size_t>(op.index)];
      auto it = std::find(diff.variables.begin(), diff.variables.end(), name);
      if (it == diff.variables.end()) {
        diff.variables.push_back(name);
        it = diff.variables.end() - 1;
      }
      op.index = static_cast<int>(it - diff.variables.begin());
    }
    diff.program.push_back(op);
  }
  diff.program.push_back({Expr::Op::kSub, 0, 0});
  return diff;
}

class AnswerParser {
 public:
  explicit AnswerParser(const Deadline& d) : deadline_(d) {}

  /// A whole answer: a union, `x \in S`, a list, or one item.
  bool node(std::string_view s, int depth, MathAnswer& out) {
    s = trim(s);
    if (s.empty() || depth > kMaxDepth) return false;
    deadline_.check();
    std::vector<size_t> at;
    // Each scan runs only when its marker occurs at all (most answers hold none of them).
    if (s.find(kIn) != std::string_view::npos &&
        !split_top(s, [](std::string_view t, size_t i) { return t[i] == kIn; }, at)) {
      return false;
    }
    if (at.size() == 1 && is_name(s.substr(0, at[0]))) return node(s.substr(at[0] + 1), depth + 1, out);
    if (!at.empty()) return false;
    if (s.find(kCup) != std::string_view::npos &&
        !split_top(s, [](std::string_view t, size_t i) { return t[i] == kCup; }, at)) {
      return false;
    }
    if (!at.empty()) {
      out.kind = MathAnswer::kUnion;
      for (std::string_view p : pieces(s, at)) {
        MathAnswer m;
        if (!item(p, depth + 1, m)) return false;
        out.items.push_back(std::move(m));
      }
      return true;
    }
    if (!list(s, depth, out)) return false;
    if (out.kind == MathAnswer::kList && out.items.size() == 1) {
      MathAnswer only = std::move(out.items[0]);
      out = std::move(only);
    }
    return true;
  }

 private:
  /// Comma- (or semicolon-) separated items; a \pm item contributes both of its values.
  bool list(std::string_view s, int depth, MathAnswer& out) {
    std::vector<size_t> commas;
    if (s.find_first_of(",;") != std::string_view::npos &&
        !split_top(s, [](std::string_view t, size_t i) { return t[i] == ',' || t[i] == ';'; }, commas)) {
      return false;
    }
    if (commas.size() + 1 > kMaxItems) return false;
    if (!commas.empty() && depth == 0) {  // "1,234,567" as a whole answer; inside brackets (12,102) is a pair
      if (std::string t = thousands(s); !t.empty()) return item(t, depth + 1, out);
    }
    out.kind = MathAnswer::kList;
    for (std::string_view p : pieces(s, commas)) {
      if (p.empty() && commas.size() > 0) continue;  // "a, b," or "(7,11),\ (11,7)" spacing
      MathAnswer m;
      if (!item(p, depth + 1, m)) return false;
      if (m.kind == MathAnswer::kList) {
        for (auto& x : m.items) out.items.push_back(std::move(x));
      } else {
        out.items.push_back(std::move(m));
      }
    }
    return !out.items.empty() && out.items.size() <= kMaxItems;
  }

  static bool relation_char(std::string_view t, size_t i) {
    const char c = t[i];
    return c == '<' || c == '>' || c == '=' || c == kLe || c == kGe || c == kNe;
  }

  /// One item: a relation or equation, a matrix, a \pm pair, a bracketed container, a ratio, or a scalar.
  bool item(std::string_view s, int depth, MathAnswer& out) {
    s = trim(s);
    if (s.empty() || depth > kMaxDepth) return false;
    deadline_.check();
    std::vector<size_t> approx;
    if (s.find(kApprox) != std::string_view::npos &&
        !split_top(s, [](std::string_view t, size_t i) { return t[i] == kApprox; }, approx)) {
      return false;
    }
    if (!approx.empty()) {  // "x = 1/3 \approx 0.33": the exact value; "x \approx 11": the value after it
      const std::string_view before = trim(s.substr(0, approx.front()));
      return is_name(before) ? item(s.substr(approx.back() + 1), depth + 1, out) : item(before, depth + 1, out);
    }
    std::vector<size_t> rel;
    static constexpr std::string_view kRelations("<>=\x01\x02\x03", 6);
    if (s.find_first_of(kRelations) != std::string_view::npos && !split_top(s, relation_char, rel)) return false;
    if (!rel.empty()) return relation(s, rel, depth, out);
    if (matrix(s, depth, out)) return true;
    if (s.find(kPm) != std::string_view::npos || s.find(kMp) != std::string_view::npos) return plus_minus(s, depth, out);
    if (container(s, depth, out)) return true;
    std::vector<size_t> colon;
    if (s.find(':') != std::string_view::npos &&
        !split_top(s, [](std::string_view t, size_t i) { return t[i] == ':'; }, colon)) {
      return false;
    }
    if (colon.size() == 1) {  // a ratio a:b, element-wise
      out.kind = MathAnswer::kTuple;
      out.open = out.close = ':';
      for (std::string_view p : pieces(s, colon)) {
        MathAnswer m;
        if (!item(p, depth + 1, m) || m.kind != MathAnswer::kScalar) return false;
        out.items.push_back(std::move(m));
      }
      return true;
    }
    return scalar(s, out);
  }

  /// A scalar, after a unit or \text{...} that follows a value, a trailing percent sign or word, and
  /// thousands separators are taken off.
  bool scalar(std::string_view s, MathAnswer& out) {
    std::string unit;
    s = strip_unit(trim(s), unit);
    std::string digits = thousands(s);
    auto e = parse_scalar(digits.empty() ? s : std::string_view(digits), deadline_);
    if (!e) return false;
    out.kind = MathAnswer::kScalar;
    out.exprs.push_back(std::move(*e));
    out.unit = std::move(unit);
    return true;
  }

  /// `s` without a unit after its value; the unit, lower-cased ("%" for every percent spelling, "cm^2"), goes to
  /// `unit` (units compare as in the numeric type: two different units are unequal).
  static std::string_view strip_unit(std::string_view s, std::string& unit) {
    if (s.empty() || !(s.back() == '}' || s.back() == '%' || alpha(s.back()) || digit(s.back()))) return s;
    auto add = [&](std::string_view u) {
      std::string lower;
      for (char c : u) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
      unit = unit.empty() ? lower : lower + " " + unit;
    };
    for (int round = 0; round < 3; ++round) {
      s = trim(s);
      bool changed = false;
      for (std::string_view suffix : {std::string_view("\\%"), std::string_view("%"), std::string_view("percentage"),
                                      std::string_view("percent"), std::string_view("pct")}) {
        if (s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix) {
          s.remove_suffix(suffix.size());
          add("%");
          changed = true;
          break;
        }
      }
      // "\mbox{ cm}^2": the power belongs to the unit.
      std::string_view power;
      if (s.size() > 3 && s[s.size() - 3] == '}' && s[s.size() - 2] == '^' && digit(s.back())) {
        power = s.substr(s.size() - 2);
        s.remove_suffix(2);
      }
      for (std::string_view cmd : {std::string_view("\\text{"), std::string_view("\\mbox{"), std::string_view("\\mathrm{"),
                                   std::string_view("\\textrm{"), std::string_view("\\textbf{"),
                                   std::string_view("\\textnormal{"), std::string_view("\\textit{")}) {
        const size_t at = s.rfind(cmd);
        if (at != std::string_view::npos && at > 0 && s.back() == '}' && s.find('}', at) == s.size() - 1) {
          const std::string_view inner = trim(s.substr(at + cmd.size(), s.size() - 1 - at - cmd.size()));
          if (!inner.empty() && alpha(inner[0])) {  // a word (a unit), not \mathrm{e}-style math
            if (cmd == "\\mathrm{" && inner.size() == 1) continue;
            s = s.substr(0, at);
            add(std::string(inner) + std::string(power));
            power = {};
            changed = true;
          }
        }
      }
      if (!power.empty()) {  // a power that no unit took back: it was the value's
        s = std::string_view(s.data(), s.size() + power.size());
      }
      if (!changed) break;
    }
    return trim(s);
  }

  /// x = 5, (p, q) = (3, 2): the value; a = b = c: the last side (the stated final value); otherwise an
  /// equation. Inequalities: a bounded variable is its interval, anything else a chain of oriented links.
  bool relation(std::string_view s, const std::vector<size_t>& at, int depth, MathAnswer& out) {
    const std::vector<std::string_view> parts = pieces(s, at);
    for (std::string_view p : parts) {
      if (p.empty()) return false;
    }
    const bool all_equal = std::all_of(at.begin(), at.end(), [&](size_t i) { return s[i] == '='; });
    if (all_equal) {
      if (parts.size() >= 3) return item(parts.back(), depth + 1, out);
      if (is_name(parts[0])) {
        if (!item(parts[1], depth + 1, out)) return false;
        auto l = parse_scalar(parts[0], deadline_), r = parse_scalar(parts[1], deadline_);
        if (l && r && out.kind == MathAnswer::kScalar) out.equation.push_back(subtract(*l, *r));  // y = 2x + 1
        return true;
      }
      auto l = parse_scalar(parts[0], deadline_), r = parse_scalar(parts[1], deadline_);
      if (!l || !r) return false;
      out.kind = MathAnswer::kEquation;
      out.exprs.push_back(subtract(*l, *r));
      return true;
    }
    if (std::any_of(at.begin(), at.end(), [&](size_t i) { return s[i] == '='; })) return false;
    std::vector<Expr> sides;
    for (std::string_view p : parts) {
      auto e = parse_scalar(p, deadline_);
      if (!e) return false;
      sides.push_back(std::move(*e));
    }
    if (interval_from_relation(s, at, parts, sides, out)) return true;
    out.kind = MathAnswer::kRelation;
    for (size_t k = 0; k < at.size(); ++k) {
      const char c = s[at[k]];
      const bool flip = c == '>' || c == kGe;
      out.exprs.push_back(flip ? subtract(sides[k + 1], sides[k]) : subtract(sides[k], sides[k + 1]));
      out.rel += c == kNe ? '!' : (c == '<' || c == '>') ? '<' : 'l';
    }
    return true;
  }

  /// "x < 5", "5 \geq x", "-1 < a \leq 10": one variable bounded by constants, as its interval.
  static bool interval_from_relation(std::string_view s, const std::vector<size_t>& at,
                                     const std::vector<std::string_view>& parts, const std::vector<Expr>& sides,
                                     MathAnswer& out) {
    auto is_var = [&](size_t k) {
      return (sides[k].program.size() == 1 && sides[k].variables.size() == 1) || is_name(parts[k]);
    };
    auto var_name = [&](size_t k) {
      return sides[k].program.size() == 1 && sides[k].variables.size() == 1 ? sides[k].variables[0]
                                                                           : std::string(parts[k]);
    };
    auto constant = [](const Expr& e) { return e.variables.empty() && !std::isnan(e.eval_with({})); };
    auto strict = [&](size_t k) { return s[at[k]] == '<' || s[at[k]] == '>'; };
    auto upward = [&](size_t k) { return s[at[k]] == '<' || s[at[k]] == kLe; };  // left side is the smaller
    if (std::any_of(at.begin(), at.end(), [&](size_t i) { return s[i] == kNe; })) return false;
    Expr minus_inf, plus_inf;
    minus_inf.program.push_back({Expr::Op::kConst, -INFINITY, 0});
    plus_inf.program.push_back({Expr::Op::kConst, INFINITY, 0});
    Expr lo, hi;
    bool lo_strict = true, hi_strict = true;
    std::string var;
    if (sides.size() == 2) {
      const int v = is_var(0) && constant(sides[1]) ? 0 : is_var(1) && constant(sides[0]) ? 1 : -1;
      if (v < 0) return false;
      var = var_name(static_cast<size_t>(v));
      const bool var_is_smaller = (v == 0) == upward(0);
      const Expr& bound = sides[static_cast<size_t>(1 - v)];
      if (var_is_smaller) {
        lo = minus_inf, hi = bound, hi_strict = strict(0);
      } else {
        lo = bound, hi = plus_inf, lo_strict = strict(0);
      }
    } else if (sides.size() == 3 && is_var(1) && constant(sides[0]) && constant(sides[2]) &&
               upward(0) == upward(1)) {
      var = var_name(1);
      const bool up = upward(0);
      lo = up ? sides[0] : sides[2];
      hi = up ? sides[2] : sides[0];
      lo_strict = up ? strict(0) : strict(1);
      hi_strict = up ? strict(1) : strict(0);
    } else {
      return false;
    }
    out.kind = MathAnswer::kTuple;
    out.variable = var;
    out.open = lo_strict ? '(' : '[';
    out.close = hi_strict ? ')' : ']';
    for (Expr* e : {&lo, &hi}) {
      MathAnswer m;
      m.exprs.push_back(std::move(*e));
      out.items.push_back(std::move(m));
    }
    return true;
  }

  /// \begin{pmatrix} a & b \\ c & d \end{pmatrix} (also bmatrix, Bmatrix, vmatrix, matrix): rows of cells.
  bool matrix(std::string_view s, int depth, MathAnswer& out) {
    if (s.compare(0, 7, "\\begin{") != 0) return false;
    const size_t name_end = s.find('}');
    const std::string_view env = s.substr(7, name_end - 7);
    if (env.find("matrix") == std::string_view::npos) return false;
    const std::string end = "\\end{" + std::string(env) + "}";
    if (s.size() < name_end + 1 + end.size() || s.substr(s.size() - end.size()) != end) return false;
    std::string_view body = trim(s.substr(name_end + 1, s.size() - end.size() - name_end - 1));
    out.kind = MathAnswer::kMatrix;
    size_t width = 0;
    while (!body.empty()) {
      size_t row_end = body.find("\\\\");
      const std::string_view row = trim(body.substr(0, row_end));
      body = row_end == std::string_view::npos ? std::string_view() : trim(body.substr(row_end + 2));
      if (row.empty()) continue;
      MathAnswer r;
      r.kind = MathAnswer::kTuple;
      std::vector<size_t> amps;
      if (!split_top(row, [](std::string_view t, size_t i) { return t[i] == '&'; }, amps)) return false;
      for (std::string_view cell : pieces(row, amps)) {
        MathAnswer c;
        if (!item(cell, depth + 1, c) || c.kind != MathAnswer::kScalar) return false;
        r.items.push_back(std::move(c));
      }
      if (width != 0 && r.items.size() != width) return false;
      width = r.items.size();
      out.items.push_back(std::move(r));
      if (out.items.size() > kMaxItems) return false;
    }
    return !out.items.empty();
  }

  /// "1 \pm \sqrt{5}": both values (every \pm and \mp chosen independently, at most 4 of them).
  bool plus_minus(std::string_view s, int depth, MathAnswer& out) {
    const size_t k = s.find_first_of(std::string_view("\x04\x05", 2));
    if (std::count(s.begin(), s.end(), kPm) + std::count(s.begin(), s.end(), kMp) > 4) return false;
    out.kind = MathAnswer::kList;
    for (char sign : {'+', '-'}) {
      std::string variant(s);
      variant[k] = s[k] == kPm ? sign : (sign == '+' ? '-' : '+');
      MathAnswer m;
      if (!item(variant, depth + 1, m)) return false;
      if (m.kind == MathAnswer::kList) {
        for (auto& x : m.items) out.items.push_back(std::move(x));
      } else {
        out.items.push_back(std::move(m));
      }
    }
    return true;
  }

  /// A bracket pair around the whole item: \{...\} (or {...} with commas) a set, (...) / [...] with commas a
  /// tuple or interval; a pair without commas is an ordinary parenthesised scalar (false here).
  bool container(std::string_view s, int depth, MathAnswer& out) {
    size_t open_len = 1;
    if (bracket_at(s, 0, open_len) != 1 || s.compare(0, 7, "\\begin{") == 0) return false;
    const size_t close = matching_close(s);
    if (close == std::string_view::npos) return false;
    size_t close_len = 1;
    bracket_at(s, close, close_len);
    if (close + close_len != s.size()) return false;
    const std::string_view inner = s.substr(open_len, close - open_len);
    std::vector<size_t> commas;
    if (!split_top(inner, [](std::string_view t, size_t i) { return t[i] == ',' || t[i] == ';'; }, commas)) {
      return false;
    }
    const bool set = open_len == 2;
    if (!set && s[0] == '{') return node(inner, depth + 1, out);  // plain braces group: {1,3} is the list 1, 3
    if (!set && commas.empty()) return false;
    if (set) {
      out.kind = MathAnswer::kSet;
    } else {
      out.kind = MathAnswer::kTuple;
      out.open = s[0];
      out.close = s[close];
      if ((out.open != '(' && out.open != '[') || (out.close != ')' && out.close != ']')) return false;
    }
    if (trim(inner).empty()) return set;  // the empty set
    MathAnswer items;
    if (!list(inner, depth + 1, items)) return false;
    out.items = std::move(items.items);
    return true;
  }

  const Deadline& deadline_;
};

/// An interval made from a relation ("x < 1" as (-\infty, 1) of x) written back as its relation links
/// ("x - 1 < 0"), to compare with a relation that is not a plain bound ("-x > -1").
std::optional<MathAnswer> relation_of_interval(const MathAnswer& t) {
  if (t.kind != MathAnswer::kTuple || t.variable.empty() || t.items.size() != 2) return std::nullopt;
  Expr var;
  var.variables.push_back(t.variable);
  var.program.push_back({Expr::Op::kVar, 0, 0});
  MathAnswer r;
  r.kind = MathAnswer::kRelation;
  const Expr& lo = t.items[0].exprs[0];
  const Expr& hi = t.items[1].exprs[0];
  if (std::isfinite(lo.eval_with({}))) {
    r.exprs.push_back(subtract(lo, var));
    r.rel += t.open == '(' ? '<' : 'l';
  }
  if (std::isfinite(hi.eval_with({}))) {
    r.exprs.push_back(subtract(var, hi));
    r.rel += t.close == ')' ? '<' : 'l';
  }
  return r;
}

bool match_unordered(const std::vector<MathAnswer>& a, const std::vector<MathAnswer>& g, double rel_tol,
                     const Deadline& deadline) {
  // As sets: every answer element is in the gold and every gold element in the answer (a repeated element
  // counts once, as in {1, 1, 2} = {1, 2}).
  auto covered = [&](const std::vector<MathAnswer>& from, const std::vector<MathAnswer>& in, bool answer_side) {
    for (const MathAnswer& x : from) {
      bool found = false;
      for (size_t j = 0; j < in.size() && !found; ++j) {
        found = answer_side ? math_equal(x, in[j], rel_tol, deadline) : math_equal(in[j], x, rel_tol, deadline);
      }
      if (!found) return false;
    }
    return true;
  };
  return !a.empty() && !g.empty() ? covered(a, g, true) && covered(g, a, false) : a.empty() && g.empty();
}

bool match_ordered(const std::vector<MathAnswer>& a, const std::vector<MathAnswer>& g, double rel_tol,
                   const Deadline& deadline) {
  if (a.size() != g.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!math_equal(a[i], g[i], rel_tol, deadline)) return false;
  }
  return true;
}

}  // namespace

std::optional<MathAnswer> parse_math(std::string_view text, const Deadline& deadline) {
  if (text.size() > 100000) return std::nullopt;
  const std::string s = normalize(text);
  MathAnswer out;
  AnswerParser p(deadline);
  if (!p.node(s, 0, out)) return std::nullopt;
  return out;
}

bool math_equal(const MathAnswer& a, const MathAnswer& g, double rel_tol, const Deadline& deadline) {
  deadline.check();
  using K = MathAnswer::Kind;
  if (a.kind == K::kList || g.kind == K::kList) {  // a bare list stands for a tuple or a set
    const K other = a.kind == K::kList ? g.kind : a.kind;
    if (other == K::kTuple) return match_ordered(a.items, g.items, rel_tol, deadline);
    if (other == K::kList || other == K::kSet) return match_unordered(a.items, g.items, rel_tol, deadline);
    return false;
  }
  if (a.kind == K::kEquation && !g.equation.empty()) {
    return expr_equal(a.exprs[0], g.equation[0], rel_tol, Match::kProportional, deadline);
  }
  if (g.kind == K::kEquation && !a.equation.empty()) {
    return expr_equal(a.equation[0], g.exprs[0], rel_tol, Match::kProportional, deadline);
  }
  if (a.kind == K::kRelation && g.kind == K::kTuple) {
    auto r = relation_of_interval(g);
    return r && math_equal(a, *r, rel_tol, deadline);
  }
  if (a.kind == K::kTuple && g.kind == K::kRelation) {
    auto r = relation_of_interval(a);
    return r && math_equal(*r, g, rel_tol, deadline);
  }
  if (a.kind != g.kind) return false;
  switch (a.kind) {
    case K::kScalar:
      if (!a.unit.empty() && !g.unit.empty() && a.unit != g.unit) return false;  // 2 cm vs 2 m
      return expr_equal(a.exprs[0], g.exprs[0], rel_tol, Match::kEqual, deadline);
    case K::kEquation:
      return expr_equal(a.exprs[0], g.exprs[0], rel_tol, Match::kProportional, deadline);
    case K::kRelation:
      if (a.rel != g.rel || a.exprs.size() != g.exprs.size()) return false;
      for (size_t i = 0; i < a.exprs.size(); ++i) {
        if (!expr_equal(a.exprs[i], g.exprs[i], rel_tol, Match::kPositiveMultiple, deadline)) return false;
      }
      return true;
    case K::kTuple:
      if (a.open != g.open || a.close != g.close) return false;
      if (!a.variable.empty() && !g.variable.empty() && a.variable != g.variable) return false;
      return match_ordered(a.items, g.items, rel_tol, deadline);
    case K::kMatrix:
      return match_ordered(a.items, g.items, rel_tol, deadline);
    case K::kSet:
    case K::kUnion:
      return match_unordered(a.items, g.items, rel_tol, deadline);
    case K::kList:
      break;
  }
  return false;
}

bool math_evaluable(const MathAnswer& gold) {
  for (const Expr& e : gold.exprs) {
    if (!expr_evaluable(e)) return false;
  }
  for (const MathAnswer& m : gold.items) {
    if (!math_evaluable(m)) return false;
  }
  return gold.kind == MathAnswer::kSet || !gold.exprs.empty() || !gold.items.empty();
}

}  // namespace seer::reward
