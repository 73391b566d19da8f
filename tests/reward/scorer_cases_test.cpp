// Every field-report case of ../shared/cases/rewards.jsonl through the plain scorer, with the
// 50 ms bound of the pathological ones (best of 3 runs, optimised build).
#include <algorithm>
#include <chrono>

#include <gtest/gtest.h>

#include "reward/scorer.h"
#include "reward_cases.h"

namespace seer::reward {
namespace {

using testing::RewardCase;

class RewardCases : public ::testing::TestWithParam<RewardCase> {};

TEST_P(RewardCases, ScoresAsTheContractSays) {
  const RewardCase& c = GetParam();
  const Score s = score_sample(c.sample, ScoringOptions{});
  EXPECT_EQ(to_string(s.status), c.status) << c.why << "\nextracted: '" << s.extracted_answer << "' " << s.detail;
  const double tol = c.sample.answer_type == AnswerType::kBbox ? 1e-6 : 1e-9;
  EXPECT_NEAR(s.components.count("accuracy") ? s.components.at("accuracy") : -1, c.accuracy, tol)
      << c.why << "\nextracted: '" << s.extracted_answer << "' type " << to_string(s.resolved_type);
  EXPECT_EQ(s.components.count("format") ? s.components.at("format") : -1, c.format) << c.why;
  if (c.time_limit_ms > 0) {
    double best_ms = 1e9;
    for (int i = 0; i < 3; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      (void)score_sample(c.sample, ScoringOptions{});
      best_ms = std::min(best_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    EXPECT_LT(best_ms, c.time_limit_ms) << "pathological case too slow";
  }
}

INSTANTIATE_TEST_SUITE_P(Rewards, RewardCases, ::testing::ValuesIn(testing::load_reward_cases()),
                         [](const auto& info) { return testing::case_name(info.param.id); });

}  // namespace
}  // namespace seer::reward
