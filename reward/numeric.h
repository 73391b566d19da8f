// `numeric` answers (contract section 2): a number with an optional unit. Thousands separators,
// fractions and LaTeX constants are read; units are compared by normalised spelling, never converted.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "reward/deadline.h"

namespace seer::reward {

struct Quantity {
  double value = 0;
  std::string unit;  ///< normalised: "%" (\%, percent), "°" (^\circ, degrees), "$" (\$, dollars), else as written
};

/// "1,000" -> 1000; "28\%" -> 28 %; "\$5" -> 5 $; "30^\circ" -> 30 °; "2 bpm" -> 2 bpm; "\frac{12}{3}" -> 4.
/// nullopt when there is no finite number.
std::optional<Quantity> parse_quantity(std::string_view text, const Deadline& deadline = Deadline::none());

/// True for a plain decimal number with an optional unit ("-1,000.5 cm", "28%"), the shape that makes
/// `auto` pick `numeric`; LaTeX expressions ("\frac{1}{2}") are left to `math`.
bool looks_numeric(std::string_view text);

/// 1.0 when the numbers match within rel_tol and the units do not conflict (both present and different).
double numeric_accuracy(const Quantity& answer, const Quantity& gold, double rel_tol);

}  // namespace seer::reward
