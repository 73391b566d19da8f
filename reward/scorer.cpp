#include "reward/scorer.h"

#include <cctype>
#include <exception>
#include <stdexcept>

#include "reward/bbox.h"
#include "reward/choice.h"
#include "reward/deadline.h"
#include "reward/extract.h"
#include "reward/format.h"
#include "reward/math_answer.h"
#include "reward/numeric.h"
#include "reward/text_match.h"
#include "reward/unicode.h"

namespace seer::reward {
namespace {

/// A sample that cannot be scored as sent (not the model's fault): status UNSCORABLE with this message.
struct Unscorable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// A numeric gold against an answer the quantity reader cannot read but the math reader can, as one constant
/// ("x = 11", "x \approx 11", "1 000", "28 pct", "11,\! 111"). An answer that carries a unit in words is left
/// to the quantity reader (units must agree there), so this never equates "5\text{ m}^2" with "5 cm".
bool math_value_equals(std::string_view answer, const Quantity& gold, double rel_tol, const Deadline& deadline) {
  for (std::string_view unit : {"\\text", "\\mbox", "\\mathrm", "\\textbf", "\\textnormal", "\\textit"}) {
    if (answer.find(unit) != std::string_view::npos) return false;
  }
  auto m = parse_math(answer, deadline);
  if (!m || m->kind != MathAnswer::kScalar || !m->exprs[0].variables.empty()) return false;
  return numbers_equal(m->exprs[0].eval_with({}), gold.value, rel_tol);
}

/// "B", "(B)", "B.", "B)", "B: text", "B. text" with an upper-case letter.
bool looks_like_option(std::string_view s) {
  s = trim(s);
  auto up = [](char c) { return c >= 'A' && c <= 'Z'; };
  if (s.size() == 1) return up(s[0]);
  if (s.size() == 3 && s[0] == '(' && s[2] == ')') return up(s[1]);
  if (s.size() >= 2 && up(s[0]) && (s[1] == '.' || s[1] == ')' || s[1] == ':')) return s.size() == 2 || is_space(s[2]);
  return false;
}

/// Words only (letters, spaces, punctuation without math meaning): text, even if it would parse as a product.
bool looks_like_math(std::string_view s) {
  if (s.size() == 1) return true;  // a single variable
  for (char c : s) {
    if ((c >= '0' && c <= '9') || c == '\\' || c == '^' || c == '+' || c == '-' || c == '*' || c == '/' ||
        c == '=' || c == '(' || c == '{' || c == '[' || c == '|' || c == '_' || static_cast<unsigned char>(c) >= 0x80) {
      return true;
    }
  }
  return false;
}

/// Notation whose meaning text matching would lose (issue 21, contract section 4): a LaTeX command or escaped
/// brace, a relation (< > = and their Unicode forms), a power or subscript, ±/∞/∪, or a bracket that holds an
/// operator, a digit or a comma ("(1,2)", "[-1,0)"). Such a gold is math or nothing: when the math parser cannot
/// read it, the sample is GOLD_UNPARSEABLE, never a text match ("x<1" must not match "x>1"). "Paris (France)"
/// and "World War 2" have none of it and stay text.
bool math_notation(std::string_view s) {
  static const std::string_view kUnicode[] = {"\xE2\x89\xA4", "\xE2\x89\xA5", "\xE2\x89\xA0", "\xC2\xB1",
                                              "\xE2\x88\x9E", "\xE2\x88\xAA", "\xE2\x88\xA9"};  // ≤ ≥ ≠ ± ∞ ∪ ∩
  for (std::string_view u : kUnicode) {
    if (s.find(u) != std::string_view::npos) return true;
  }
  int depth = 0;
  for (char c : s) {
    if (c == '\\' || c == '<' || c == '>' || c == '=' || c == '^' || c == '_') return true;
    if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}') {
      depth = std::max(0, depth - 1);
    } else if (depth > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '*' || c == '/' || c == ',')) {
      return true;
    }
  }
  return false;
}

/// The gold, prepared for its type; `ok` false when it does not parse (GOLD_UNPARSEABLE).
struct Gold {
  bool ok = false;
  std::optional<Quantity> quantity;
  std::optional<MathAnswer> math;
  char letter = 0;
  Box box{};
  std::string text;  ///< the normalised gold
};

Gold parse_gold(AnswerType type, const Extracted& g, const Sample& s, const Deadline& deadline) {
  Gold gold;
  if (g.kind != Extracted::kOk) return gold;
  gold.text = g.text;
  switch (type) {
    case AnswerType::kNumeric:
      gold.quantity = parse_quantity(g.text, deadline);
      gold.ok = gold.quantity.has_value();
      break;
    case AnswerType::kMath:
      gold.math = parse_math(g.text, deadline);
      gold.ok = gold.math.has_value() && math_evaluable(*gold.math);
      break;
    case AnswerType::kChoice:
      if (auto c = parse_choice(g.text, s.options)) {
        gold.letter = *c;
        gold.ok = true;
      }
      break;
    case AnswerType::kText:
      gold.ok = !normalize_text(g.text).empty();
      break;
    case AnswerType::kBbox:
      if (auto b = parse_box(g.text); b && valid_box(*b)) {
        gold.box = *b;
        gold.ok = true;
      }
      break;
    case AnswerType::kAuto:
      break;
  }
  return gold;
}

/// Accuracy of a well-formed extracted answer against a parsed gold.
double accuracy(AnswerType type, const std::string& answer, const Gold& gold, const Sample& s,
                const ScoringOptions& o, const Deadline& deadline) {
  switch (type) {
    case AnswerType::kNumeric: {
      if (auto q = parse_quantity(answer, deadline)) return numeric_accuracy(*q, *gold.quantity, o.rel_tol);
      return math_value_equals(answer, *gold.quantity, o.rel_tol, deadline) ? 1.0 : 0.0;
    }
    case AnswerType::kMath: {
      auto m = parse_math(answer, deadline);
      return m && math_equal(*m, *gold.math, o.rel_tol, deadline) ? 1.0 : 0.0;
    }
    case AnswerType::kChoice: {
      auto c = parse_choice(answer, s.options);
      return c && *c == gold.letter ? 1.0 : 0.0;
    }
    case AnswerType::kText:
      return text_accuracy(answer, gold.text);
    case AnswerType::kBbox: {
      auto b = parse_box(answer);
      if (!b) return 0.0;
      auto mapped = to_original_frame(*b, s.box_frame.value_or(o.box_frame), s.model_input_image, s.original_image);
      if (!mapped) throw Unscorable("bbox: the sample lacks the image sizes its box frame needs");
      return iou(*mapped, gold.box);
    }
    case AnswerType::kAuto:
      break;
  }
  return 0.0;
}

double weighted_total(const std::map<std::string, double>& components, const std::map<std::string, double>& weights) {
  double total = 0;
  for (const auto& [name, value] : components) {
    auto w = weights.find(name);
    if (w != weights.end()) total += w->second * value;
  }
  return total;
}

}  // namespace

AnswerType resolve_auto_type(std::string_view g) {
  if (auto b = parse_box(g)) return AnswerType::kBbox;
  if (looks_like_option(g)) return AnswerType::kChoice;
  if (looks_numeric(g)) return AnswerType::kNumeric;
  if (looks_like_math(g) && parse_math(g)) return AnswerType::kMath;
  // Math the parser cannot read is never compared as text (GOLD_UNPARSEABLE through the math type).
  return math_notation(g) ? AnswerType::kMath : AnswerType::kText;
}

std::string gold_problem(const Sample& s, AnswerType* resolved) {
  try {
    const Extracted g = normalize_gold(s.gold);
    const AnswerType type = s.answer_type != AnswerType::kAuto
                                ? s.answer_type
                                : (g.kind == Extracted::kOk ? resolve_auto_type(g.text) : AnswerType::kText);
    if (resolved != nullptr) *resolved = type;
    if (g.kind == Extracted::kNone) return "the gold answer is empty";
    if (!parse_gold(type, g, s, Deadline(1.0)).ok) {
      return "gold '" + g.text.substr(0, 200) + "' does not parse as " + std::string(to_string(type));
    }
    return "";
  } catch (const std::exception& e) {
    return std::string("gold could not be checked: ") + e.what();
  }
}

double overlong_penalty(int64_t completion_tokens, int64_t max_new_tokens, int64_t buffer, double penalty) {
  if (buffer <= 0 || max_new_tokens <= 0) return 0.0;
  const int64_t soft_start = max_new_tokens - buffer;
  if (completion_tokens <= soft_start) return 0.0;
  if (completion_tokens <= max_new_tokens) {
    return -penalty * static_cast<double>(completion_tokens - soft_start) / static_cast<double>(buffer);
  }
  return -penalty;
}

Score score_sample(const Sample& s, const ScoringOptions& o) {
  Score score;
  const Deadline deadline(o.budget_seconds);
  try {
    const std::string text = s.prefill + std::string(cut_at_stop(s.completion, s.stop));
    const double format = format_reward(text, s.truncated);
    const Extracted gold_text = normalize_gold(s.gold);
    score.resolved_type = s.answer_type != AnswerType::kAuto
                              ? s.answer_type
                              : (gold_text.kind == Extracted::kOk ? resolve_auto_type(gold_text.text) : AnswerType::kText);
    deadline.check();
    double acc = 0.0;
    if (s.truncated) {
      score.status = Status::kTruncated;
    } else {
      const Gold gold = parse_gold(score.resolved_type, gold_text, s, deadline);
      const Extracted answer = extract_answer(text);
      score.extracted_answer = answer.text;
      if (!gold.ok) {
        score.status = Status::kGoldUnparseable;
        score.detail = gold_text.kind == Extracted::kNone
                           ? "gold is empty"
                           : "gold '" + gold_text.text.substr(0, 200) + "' does not parse as " +
                                 std::string(to_string(score.resolved_type));
      } else if (answer.kind == Extracted::kNone) {
        score.status = Status::kNoAnswer;
      } else if (answer.kind == Extracted::kOk) {
        acc = accuracy(score.resolved_type, answer.text, gold, s, o, deadline);
      }  // kMalformed: present but cannot be right -> OK with accuracy 0
    }
    deadline.check();
    score.components["accuracy"] = acc;
    score.components["format"] = format;
    if (o.weights.count("length") != 0) {
      score.components["length"] =
          overlong_penalty(s.completion_tokens, s.max_new_tokens, o.overlong_buffer_tokens, o.overlong_penalty);
    }
    score.total = weighted_total(score.components, o.weights);
  } catch (const BudgetExceeded&) {
    score = Score{Status::kUnscorable, {}, 0.0, "", score.resolved_type, "scoring exceeded its time budget"};
  } catch (const Unscorable& e) {
    score = Score{Status::kUnscorable, {}, 0.0, "", score.resolved_type, e.what()};
  } catch (const std::exception& e) {
    score = Score{Status::kUnscorable, {}, 0.0, "", score.resolved_type, std::string("scoring failed: ") + e.what()};
  }
  return score;
}

}  // namespace seer::reward
