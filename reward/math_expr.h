// Numeric evaluation of LaTeX and arithmetic answers (contract section 2, `math`):
// + - * / ^ ! , parentheses and braces, \frac \dfrac \tfrac, \sqrt{} \sqrt[n]{}, \pi, e, \cdot, \times,
// implicit multiplication, functions (\sin \cos \tan \ln \log \exp, |x|), free variables; tuples (a, b),
// sets \{a, b\}, bare lists a, b, and a single-variable left side (x = 5) which is dropped.
// Parsing is linear in the input with nesting bounded by kMaxDepth; nothing here throws except
// BudgetExceeded from the Deadline.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reward/deadline.h"

namespace seer::reward {

/// A compiled scalar expression: a postfix program over constants and named variables.
class Expr {
 public:
  struct Op {
    enum Code { kConst, kVar, kAdd, kSub, kMul, kDiv, kPow, kNeg, kFunc, kRoot, kFactorial } code;
    double value = 0;  ///< kConst
    int index = 0;     ///< kVar: index into variables(); kFunc: function id
  };
  std::vector<Op> program;
  std::vector<std::string> variables;  ///< names of free variables, in first-use order

  /// Value with values[i] bound to variables[i]. NaN and inf propagate; never throws.
  double eval_with(const std::vector<double>& values) const;
};

/// A parsed math answer.
struct MathAnswer {
  enum Kind { kScalar, kTuple, kSet, kList, kEquation };
  Kind kind = kScalar;
  char open = 0, close = 0;  ///< kTuple: its brackets, e.g. '(' ')' or '[' ')'
  std::vector<Expr> items;   ///< kScalar/kEquation: one (for an equation: lhs - rhs)
};

inline constexpr int kMaxDepth = 200;
inline constexpr size_t kMaxItems = 256;

/// Parses `text`; nullopt when it is not a math expression this evaluator understands.
std::optional<MathAnswer> parse_math(std::string_view text, const Deadline& deadline = Deadline::none());

/// Value of a constant expression ("\frac{12}{3}", "2^{-3}", "\sqrt{17}"); nullopt if it does not parse,
/// has free variables, or is not finite.
std::optional<double> eval_constant(std::string_view text, const Deadline& deadline = Deadline::none());

/// |a - g| <= rel_tol * max(|a|, |g|); when the gold g is exactly 0, |a| <= 1e-12 (cases README, conv. 5).
bool numbers_equal(double answer, double gold, double rel_tol);

/// Whether `answer` equals `gold`: same kind (a tuple never equals a set), element-wise in order for
/// tuples, as sets for sets and lists, and for free variables equal values at 5 random points
/// (deterministic). Equations compare as proportional left-minus-right sides.
bool math_equal(const MathAnswer& answer, const MathAnswer& gold, double rel_tol,
                const Deadline& deadline = Deadline::none());

/// True when `gold` can be evaluated at all (finite somewhere): otherwise the gold is unparseable.
bool math_evaluable(const MathAnswer& gold);

}  // namespace seer::reward
