// The entry point every reward goes through (the service, `seer reward score`, evaluation):
// cut at stop strings, prepend the prefill, then status, format and accuracy (contract sections 1-4),
// an optional length component, and the weighted total.
#pragma once

#include "reward/types.h"

namespace seer::reward {

/// The answer type `auto` resolves to for a normalised gold (contract section 2): a number with an
/// optional unit -> numeric; one option letter -> choice; a box -> bbox; LaTeX or an arithmetic
/// expression -> math; anything else -> text.
AnswerType resolve_auto_type(std::string_view normalized_gold);

/// Whether the gold of `sample` (its gold, answer_type and options) parses for its type: "" when it does,
/// else the reason (what GOLD_UNPARSEABLE would say). `resolved` gets the type `auto` resolves to.
/// Used by `seer data check` so a run never starts on golds that cannot score. Never throws.
std::string gold_problem(const Sample& sample, AnswerType* resolved = nullptr);

/// Scores one sample. Never throws: a failure or a spent budget gives status kUnscorable with a detail.
/// Thread-safe (no shared state).
Score score_sample(const Sample& sample, const ScoringOptions& options);

/// DAPO soft overlong penalty (Yu et al. 2025, "DAPO", eq. 13): 0 up to max_new_tokens - buffer, then
/// falling linearly to -penalty at max_new_tokens; -penalty beyond. 0 when buffer <= 0.
double overlong_penalty(int64_t completion_tokens, int64_t max_new_tokens, int64_t buffer, double penalty);

}  // namespace seer::reward
