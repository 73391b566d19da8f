// Generation lanes (rollout/generation_lanes.h): the rows come back as one generate() call gives them, whether the
// lanes share the prompts or one prompt's samples; each lane samples with its own seed; the caller's intra-op
// thread count is restored.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/presets.h"
#include "model/vlm.h"
#include "rollout/generation_lanes.h"

namespace seer::rollout {
namespace {

class Lanes : public ::testing::Test {
 protected:
  void SetUp() override { model_ = model::Vlm::create(model::preset_config("tiny"), 7); }
  static model::Prompt text(std::vector<int64_t> ids) { return {torch::tensor(ids, torch::kLong), {}}; }
  /// Row r of `a` equals row r of `b` up to its length (tokens exactly, log-probs within float rounding).
  static void expect_same_rows(const model::Generation& a, const model::Generation& b) {
    ASSERT_EQ(a.lengths, b.lengths);
    ASSERT_EQ(a.finish, b.finish);
    for (size_t r = 0; r < a.lengths.size(); ++r) {
      const int64_t n = a.lengths[r], i = static_cast<int64_t>(r);
      EXPECT_TRUE(torch::equal(a.tokens[i].narrow(0, 0, n), b.tokens[i].narrow(0, 0, n))) << "row " << r;
      EXPECT_TRUE(torch::allclose(a.logprobs[i].narrow(0, 0, n), b.logprobs[i].narrow(0, 0, n), 1e-4, 1e-5)) << "row " << r;
    }
  }
  std::unique_ptr<model::Vlm> model_;
};

TEST_F(Lanes, GreedyRowsEqualOneCallWhenLanesShareThePrompts) {
  model::SamplingParams p;
  p.temperature = 0;
  p.max_new_tokens = 12;
  const std::vector<model::Prompt> prompts = {text({72, 101, 108}), text({87, 104, 97, 116, 63}), text({50, 43, 50})};
  const int threads = at::get_num_threads();
  const auto lanes = generate_in_lanes(*model_, prompts, 2, p, 2);
  EXPECT_EQ(at::get_num_threads(), threads);
  EXPECT_EQ(lanes.tokens.size(0), 6);
  expect_same_rows(lanes, model::generate(*model_, prompts, 2, p));
}

TEST_F(Lanes, GreedyRowsEqualOneCallWhenLanesShareOnePromptsSamples) {
  model::SamplingParams p;
  p.temperature = 0;
  p.max_new_tokens = 9;
  const std::vector<model::Prompt> prompts = {text({72, 105, 33})};
  const auto before = model_->prefill_passes();
  const auto lanes = generate_in_lanes(*model_, prompts, 5, p, 2);
  EXPECT_EQ(model_->prefill_passes() - before, 2);  // each lane prefilled the prompt for its share (2 and 3 rows)
  expect_same_rows(lanes, model::generate(*model_, prompts, 5, p));
}

TEST_F(Lanes, EachLaneSamplesWithItsOwnSeed) {
  model::SamplingParams p;
  p.temperature = 1.0;
  p.max_new_tokens = 10;
  p.seed = 11;
  const std::vector<model::Prompt> prompts = {text({65, 66, 67})};
  const auto lanes = generate_in_lanes(*model_, prompts, 4, p, 2);
  // Lane 0 holds samples 0-1 (seed 11), lane 1 samples 2-3 (seed 12), each as generate() alone gives them.
  const auto first = model::generate(*model_, prompts, 2, p);
  p.seed = 12;
  const auto second = model::generate(*model_, prompts, 2, p);
  model::Generation joined;
  joined.lengths = {first.lengths[0], first.lengths[1], second.lengths[0], second.lengths[1]};
  joined.finish = {first.finish[0], first.finish[1], second.finish[0], second.finish[1]};
  const int64_t steps = std::max(first.tokens.size(1), second.tokens.size(1));
  joined.tokens = torch::zeros({4, steps}, torch::kLong);
  joined.logprobs = torch::zeros({4, steps});
  joined.tokens.narrow(0, 0, 2).narrow(1, 0, first.tokens.size(1)).copy_(first.tokens);
  joined.tokens.narrow(0, 2, 2).narrow(1, 0, second.tokens.size(1)).copy_(second.tokens);
  joined.logprobs.narrow(0, 0, 2).narrow(1, 0, first.tokens.size(1)).copy_(first.logprobs);
  joined.logprobs.narrow(0, 2, 2).narrow(1, 0, second.tokens.size(1)).copy_(second.logprobs);
  expect_same_rows(lanes, joined);
}

TEST_F(Lanes, OneLaneIsAPlainCall) {
  model::SamplingParams p;
  p.max_new_tokens = 6;
  p.seed = 5;
  const std::vector<model::Prompt> prompts = {text({65, 66}), text({67})};
  expect_same_rows(generate_in_lanes(*model_, prompts, 3, p, 1), model::generate(*model_, prompts, 3, p));
}

}  // namespace
}  // namespace seer::rollout
