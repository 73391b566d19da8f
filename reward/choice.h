// `choice` answers (contract section 2): which option letter an answer (or a gold) names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seer::reward {

/// The option letter `text` names, upper-case; nullopt when none or ambiguous.
/// `options` are the letters the question offers (first character of each, upper-cased); empty = A-E.
/// Rules, in order: an explicit "answer is X" / "answer: X" wins (the last one); else the whole text is
/// one option form (B, b, (B), B., B), B: text, B. text, Option B); else exactly one distinct standalone
/// capital from the options appears in the prose; otherwise nullopt (ambiguous or none).
std::optional<char> parse_choice(std::string_view text, const std::vector<std::string>& options);

}  // namespace seer::reward
