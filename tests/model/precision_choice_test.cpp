// compute.*_dtype: auto (model/precision_choice.h): the rule's three outcomes, the log-prob probe (small but
// non-zero on the tiny preset, above the bound for a model whose logits bf16 cannot carry, the process's compute
// dtype left as it was), and a choice on the real model consistent with its own measurements.
#include <cstdio>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/linear.h"
#include "model/precision_choice.h"
#include "model/presets.h"
#include "model/vlm.h"

namespace seer::model {
namespace {

TEST(PrecisionChoice, RuleNeedsSpeedThenAccuracy) {
  int probes = 0;
  auto probe = [&probes](double value) {
    return [&probes, value] {
      ++probes;
      return value;
    };
  };
  const PrecisionChoice slow = decide_precision(0.3, probe(0.0), "cpu");
  EXPECT_EQ(slow.dtype, at::kFloat);
  EXPECT_EQ(probes, 0);  // no log-prob probe when bf16 is too slow anyway
  EXPECT_NE(slow.why.find("auto needs 1.3x"), std::string::npos) << slow.why;
  const PrecisionChoice inaccurate = decide_precision(2.0, probe(0.5), "cpu");
  EXPECT_EQ(inaccurate.dtype, at::kFloat);
  EXPECT_DOUBLE_EQ(inaccurate.mismatch, 0.5);
  EXPECT_NE(inaccurate.why.find("0.5000 nats"), std::string::npos) << inaccurate.why;
  const PrecisionChoice fast = decide_precision(2.0, probe(0.004), "cuda:0");
  EXPECT_EQ(fast.dtype, at::kBFloat16);
  EXPECT_EQ(probes, 2);
  EXPECT_NE(fast.why.find("2.00x faster on cuda:0"), std::string::npos) << fast.why;
  // The bounds themselves.
  EXPECT_EQ(decide_precision(kBf16MinSpeedup, probe(kBf16MaxLogprobMismatch), "cpu").dtype, at::kBFloat16);
  EXPECT_EQ(decide_precision(kBf16MinSpeedup * 0.99, probe(0.0), "cpu").dtype, at::kFloat);
}

TEST(PrecisionChoice, ProbeMeasuresWhatBf16DoesToTheLogprobs) {
  auto m = Vlm::create(preset_config("tiny"), 3, LoadOptions{});
  set_compute_dtype(at::kFloat);
  const double tiny = bf16_logprob_mismatch(*m);
  EXPECT_EQ(compute_dtype(), at::kFloat);  // restored
  EXPECT_GT(tiny, 0.0);                    // bf16 products do change the numbers
  EXPECT_LT(tiny, kBf16MaxLogprobMismatch);
  EXPECT_DOUBLE_EQ(bf16_logprob_mismatch(*m), tiny);  // seeded: the same batch every time
  set_compute_dtype(at::kBFloat16);
  EXPECT_DOUBLE_EQ(bf16_logprob_mismatch(*m), tiny);  // the probe sets both dtypes itself
  EXPECT_EQ(compute_dtype(), at::kBFloat16);
  set_compute_dtype(at::kFloat);
  // Logits 300x larger: bf16's 8-bit mantissa now moves them by whole nats.
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, p] : m->named_parameters()) {
      if (name.find("norm.weight") != std::string::npos && name.find("layers") == std::string::npos) p.mul_(300.0);
    }
  }
  const double sharp = bf16_logprob_mismatch(*m);
  EXPECT_GT(sharp, kBf16MaxLogprobMismatch) << "final-norm weights x300 should make bf16 products too coarse";
  EXPECT_EQ(choose_precision(*m).dtype, at::kFloat);
}

TEST(PrecisionChoice, ChoiceOnTheModelFollowsItsMeasurements) {
  auto m = Vlm::create(preset_config("tiny"), 3, LoadOptions{});
  const PrecisionChoice c = choose_precision(*m);
  EXPECT_GT(c.speedup, 0.0);
  if (c.speedup < kBf16MinSpeedup) {
    EXPECT_EQ(c.dtype, at::kFloat);
    EXPECT_LT(c.mismatch, 0.0);  // not measured
  } else {
    EXPECT_GE(c.mismatch, 0.0);
    EXPECT_EQ(c.dtype, c.mismatch <= kBf16MaxLogprobMismatch ? at::kBFloat16 : at::kFloat);
  }
  EXPECT_FALSE(c.why.empty());
  std::printf("auto on this machine: %s\n", c.why.c_str());
}

}  // namespace
}  // namespace seer::model
