// libFuzzer target for the reward scorers: the extractor, the math parser and the whole scorer on
// arbitrary bytes. Besides crashes and sanitizer reports it checks two contract properties:
// extraction is idempotent, and a score is always one of the contract's values.
// Build and run: scripts/fuzz-reward.sh [SECONDS]
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "reward/extract.h"
#include "reward/math_answer.h"
#include "reward/scorer.h"

using namespace seer::reward;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string all(reinterpret_cast<const char*>(data + 2), size - 2);
  // First byte picks the answer type and flags; the rest splits into completion | gold at a 0xFF byte.
  const uint8_t control = data[0];
  const size_t split = all.find('\xff');
  Sample s;
  s.completion = all.substr(0, split);
  s.gold = split == std::string::npos ? std::string() : all.substr(split + 1);
  s.answer_type = static_cast<AnswerType>(control % 6);
  s.truncated = (control & 0x80) != 0;
  s.prefill = (control & 0x40) != 0 ? "<think>\n" : "";
  if ((control & 0x20) != 0) s.stop = {"<|im_end|>"};
  s.original_image = {static_cast<double>(data[1]), static_cast<double>(data[1] / 2)};
  s.model_input_image = {static_cast<double>(data[1] % 7), 28};

  const Extracted once = normalize_answer(s.completion);
  if (once.kind == Extracted::kOk) {
    const Extracted twice = normalize_answer(once.text);
    if (twice.text != once.text) std::abort();  // extraction must be idempotent
  }
  (void)parse_math(s.completion);

  ScoringOptions o;
  o.budget_seconds = 0;  // no budget: a slow input should show up as a timeout of the fuzzer
  const Score r = score_sample(s, o);
  if (r.status != Status::kUnscorable) {
    const double acc = r.components.at("accuracy");
    const double fmt = r.components.at("format");
    if (!(acc >= 0.0 && acc <= 1.0) || !(fmt == 0.0 || fmt == 1.0)) std::abort();
    if (s.answer_type != AnswerType::kBbox && r.resolved_type != AnswerType::kBbox && acc != 0.0 && acc != 1.0) {
      std::abort();  // exact types are exactly 0 or 1
    }
  }
  return 0;
}
