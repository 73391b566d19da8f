// `text` answers (contract section 2): exact match after normalisation.
#pragma once

#include <string>
#include <string_view>

namespace seer::reward {

/// NFKC + case fold, punctuation removed (not replaced by a space) except the characters that change a
/// meaning (< > = + - ( ) [ ] { } \), whitespace collapsed, one leading article (a / an / the) dropped.
/// "The Apple." -> "apple"; "x<1" and "x>1" stay different.
std::string normalize_text(std::string_view text);

/// 1.0 when both normalise to the same non-empty string; a substring is not a match.
double text_accuracy(std::string_view answer, std::string_view gold);

}  // namespace seer::reward
