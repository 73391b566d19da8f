// "Did you mean" suggestions for misspelt names (config keys, subcommands, choices).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace seer {

/// Optimal-string-alignment edit distance (insert, delete, substitute, swap two adjacent characters),
/// each costing 1. O(|a|·|b|) time and O(|b|) memory.
int edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word` by edit_distance, if it is close enough to be a plausible typo
/// (distance ≤ max(1, |word| / 3), ties broken by candidate order); "" when none is.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace seer
