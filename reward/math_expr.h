// Numeric evaluation of scalar LaTeX and arithmetic expressions (contract section 2, `math`):
// + - * / ^ ! , parentheses and braces, \frac \dfrac \tfrac \cfrac, \sqrt{} \sqrt[n]{}, \pi, e, \infty,
// \cdot, \times, implicit multiplication, functions (\sin \cos \tan \sec \csc \cot, inverse and hyperbolic,
// \ln, \log, \log_b, \exp, |x|), free variables. The structure around scalars (tuples, sets, intervals,
// unions, relations, matrices, \pm) is math_answer.h. Parsing is linear in the input with nesting bounded by
// kMaxDepth; nothing here throws except BudgetExceeded from the Deadline.
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

inline constexpr int kMaxDepth = 200;
inline constexpr size_t kMaxItems = 256;

/// Parses one scalar expression (no top-level comma, relation or set); nullopt when it is not one this
/// evaluator understands.
std::optional<Expr> parse_scalar(std::string_view text, const Deadline& deadline = Deadline::none());

/// Value of a constant expression ("\frac{12}{3}", "2^{-3}", "\sqrt{17}"); nullopt if it does not parse,
/// has free variables, or is not finite.
std::optional<double> eval_constant(std::string_view text, const Deadline& deadline = Deadline::none());

/// |a - g| <= rel_tol * max(|a|, |g|); when the gold g is exactly 0, |a| <= 1e-12 (cases README, conv. 5);
/// an infinite gold equals only the same infinity.
bool numbers_equal(double answer, double gold, double rel_tol);

/// How expr_equal compares: equal values; proportional (equations: lhs - rhs up to a factor); or a positive
/// multiple (inequalities: the factor must not flip the relation).
enum class Match { kEqual, kProportional, kPositiveMultiple };

/// Whether two scalar expressions agree: constants compared once; with free variables at 5 deterministic
/// points (over the union of both sides' variables) where the gold is finite, every one of which must agree.
bool expr_equal(const Expr& answer, const Expr& gold, double rel_tol, Match match,
                const Deadline& deadline = Deadline::none());

/// True when `e` is finite somewhere (or is a constant infinity, an interval end).
bool expr_evaluable(const Expr& e);

}  // namespace seer::reward
