// The structure of a math answer around its scalars (contract section 2, `math`; issue 21): tuples and
// intervals with open/closed ends, sets \{...\}, bare lists, unions of intervals (\cup), \pm as the set of both
// values, relations and chains of them (a single variable bounded by constants is its interval: x \leq 5 is
// (-\infty, 5]), equations, matrices (pmatrix/bmatrix/matrix, element-wise), ratios a:b, lists joined by
// "and"/"or", `x \in S`, a name on the left (x = 5, (p, q) = (3, 2), a_3 = 2) that is dropped, thousands
// separators ({,} ,\! and thin spaces), and a unit or \text{...} after a value. Scalars are math_expr.h.
// Work is linear in the input with nesting bounded by kMaxDepth; nothing throws except BudgetExceeded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reward/deadline.h"
#include "reward/math_expr.h"

namespace seer::reward {

/// A parsed math answer.
struct MathAnswer {
  enum Kind { kScalar, kEquation, kRelation, kTuple, kSet, kList, kUnion, kMatrix };
  Kind kind = kScalar;
  /// kScalar: the value; kEquation: lhs - rhs; kRelation: one "lhs - rhs" per link, oriented so that the
  /// link reads `expr < 0` (rel '<'), `expr <= 0` (rel 'l') or `expr != 0` (rel '!').
  std::vector<Expr> exprs;
  std::string rel;
  /// kTuple: its brackets ('(' or '[' and ')' or ']'; ':' ':' for a ratio; 0 0 for a matrix row). An
  /// interval is a two-item tuple.
  char open = 0, close = 0;
  /// kTuple made from a relation ("x \leq 5", "-1 < a < 10"): the bounded variable.
  std::string variable;
  /// kTuple, kSet, kList, kUnion, kMatrix (rows, each a kTuple).
  std::vector<MathAnswer> items;
  /// kScalar read from "y = 2x + 1" (a name on the left, dropped): the equation too (lhs - rhs), so that it
  /// also equals "2x - y + 1 = 0".
  std::vector<Expr> equation;
  /// kScalar: the unit written after the value, lower-cased ("%", "cm", "cm^2"); empty when none. Two scalars
  /// with different units are unequal; a unit on one side only is ignored (as in the numeric type).
  std::string unit;
};

/// Parses `text` (an extracted answer or gold); nullopt when it is not math this evaluator understands.
std::optional<MathAnswer> parse_math(std::string_view text, const Deadline& deadline = Deadline::none());

/// Whether `answer` equals `gold` by meaning: same kind (a bare list may stand for a tuple or a set), tuples
/// and matrices element-wise in order with the same brackets, sets, lists and unions as sets, relations link
/// by link up to a positive factor, equations up to any factor, scalars with free variables at 5 points.
bool math_equal(const MathAnswer& answer, const MathAnswer& gold, double rel_tol,
                const Deadline& deadline = Deadline::none());

/// True when every scalar of `gold` can be evaluated (finite somewhere): otherwise the gold is unparseable.
bool math_evaluable(const MathAnswer& gold);

}  // namespace seer::reward
