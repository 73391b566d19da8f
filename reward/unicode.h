// Unicode normalisation for answer comparison (utf8proc). Never throws: invalid UTF-8 comes back as is.
#pragma once

#include <string>
#include <string_view>

namespace seer::reward {

/// NFKC normal form (full-width "２" -> "2", ligatures split). Invalid UTF-8 is returned unchanged.
std::string nfkc(std::string_view text);

/// NFKC with Unicode case folding ("Final" -> "final"). Invalid UTF-8 gets ASCII lower-casing only.
std::string nfkc_casefold(std::string_view text);

/// ASCII whitespace: space, \t, \n, \r, \f, \v.
inline bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/// `text` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view text);

}  // namespace seer::reward
