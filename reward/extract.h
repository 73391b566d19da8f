// The one answer extractor (contract section 1), used by every reward and by evaluation:
// stop-string cut, the last closed <answer> block, the last \boxed{} / \fbox{} in it, wrapper stripping
// and NFKC. Linear in the input, bounded, never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace seer::reward {

/// `completion` cut at the earliest occurrence of any stop string (the stop string removed).
std::string_view cut_at_stop(std::string_view completion, const std::vector<std::string>& stop);

/// The content of the last closed <answer>...</answer> block of `text` (the last "</answer>" and the
/// last "<answer>" before it); found=false when there is none.
struct AnswerBlock {
  bool found = false;
  std::string_view content;
};
AnswerBlock last_answer_block(std::string_view text);

/// Result of normalising an answer: kNone when nothing is left (empty block, "\boxed{}"), kMalformed when
/// a box is present but unbalanced or has no braces ("\boxed{\frac{1}{2}", "\boxed42": an answer that
/// cannot be right), kOk otherwise.
struct Extracted {
  enum Kind { kNone, kOk, kMalformed };
  Kind kind = kNone;
  std::string text;
};

/// NFKC, then the last box's content, then strips surrounding whitespace, $...$ (any number of pairs),
/// \(...\), \[...\], **...**, \textbf{...}, \text{...} and one trailing period, repeatedly.
/// Idempotent on kOk results: normalize_answer(r.text).text == r.text.
Extracted normalize_answer(std::string_view answer);

/// The final answer of a scored text (prefill + cut completion): normalize_answer of the last closed
/// <answer> block; kNone when there is no block. Never searches outside the block.
Extracted extract_answer(std::string_view scored_text);

/// A gold answer goes through the same normaliser; a gold wrapped in <answer> tags (R1-V data) is unwrapped.
Extracted normalize_gold(std::string_view gold);

}  // namespace seer::reward
