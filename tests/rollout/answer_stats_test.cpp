// Evaluation statistics against values worked out by hand.
#include <gtest/gtest.h>

#include "rollout/answer_stats.h"

namespace seer::rollout {
namespace {

// Ten rows: gold 1 x5, 2 x3, 3 x2. The model answers "1" to everything but one "2" row, which it gets
// right, and one "3" row, where it gives no answer.
std::vector<AnswerRecord> collapsed() {
  return {{"1", "1", true},  {"1", "1", true}, {"1", "1", true}, {"1", "1", true}, {"1", "1.0", true},
          {"2", "1", false}, {"2", "1", false}, {"2", "2", true},
          {"3", "1", false}, {"3", "", false}};
}

TEST(AnswerStats, MajorityBaselineIsTheShareOfTheMostCommonGold) {
  const AnswerStats s = answer_stats(collapsed());
  EXPECT_EQ(s.rows, 10);
  EXPECT_EQ(s.majority_answer, "1");
  EXPECT_DOUBLE_EQ(s.majority_baseline, 0.5);
}

TEST(AnswerStats, HistogramsUseTheGoldForCorrectAnswers) {
  const AnswerStats s = answer_stats(collapsed());
  // "1.0" was scored correct for gold "1": it counts as "1". Predictions: 1 x8, 2 x1, (none) x1.
  EXPECT_EQ(s.predicted_histogram.at("1"), 8);
  EXPECT_EQ(s.predicted_histogram.at("2"), 1);
  EXPECT_EQ(s.predicted_histogram.at("(none)"), 1);
  EXPECT_EQ(s.predicted_histogram.count("1.0"), 0u);
  EXPECT_EQ(s.gold_histogram.at("1"), 5);
  EXPECT_EQ(s.gold_histogram.at("2"), 3);
  EXPECT_EQ(s.gold_histogram.at("3"), 2);
}

TEST(AnswerStats, TotalVariationDistance) {
  // gold (0.5, 0.3, 0.2, 0) vs predicted (0.8, 0.1, 0, 0.1) over (1, 2, 3, none):
  // 0.5 * (0.3 + 0.2 + 0.2 + 0.1) = 0.4
  EXPECT_NEAR(answer_stats(collapsed()).total_variation, 0.4, 1e-12);
  // A perfect model has distance 0; a model that answers a never-gold value has distance 1.
  EXPECT_NEAR(answer_stats({{"1", "1", true}, {"2", "2", true}}).total_variation, 0.0, 1e-12);
  EXPECT_NEAR(answer_stats({{"1", "7", false}, {"2", "7", false}}).total_variation, 1.0, 1e-12);
}

TEST(AnswerStats, PerClassAccuracy) {
  const AnswerStats s = answer_stats(collapsed());
  ASSERT_EQ(s.per_answer.size(), 3u);
  EXPECT_EQ(s.per_answer.at("1").rows, 5);
  EXPECT_EQ(s.per_answer.at("1").correct, 5);
  EXPECT_EQ(s.per_answer.at("1").predicted, 8);
  EXPECT_DOUBLE_EQ(s.per_answer.at("2").accuracy(), 1.0 / 3.0);
  EXPECT_EQ(s.per_answer.at("2").predicted, 1);
  EXPECT_DOUBLE_EQ(s.per_answer.at("3").accuracy(), 0.0);
  EXPECT_EQ(s.per_answer.at("3").predicted, 0);
  // (1 + 1/3 + 0) / 3
  EXPECT_NEAR(s.balanced_accuracy, 4.0 / 9.0, 1e-12);
}

TEST(AnswerStats, TieGoesToTheSmallestAnswerAndEmptyInputIsZero) {
  const AnswerStats s = answer_stats({{"b", "b", true}, {"a", "b", false}});
  EXPECT_EQ(s.majority_answer, "a");
  EXPECT_DOUBLE_EQ(s.majority_baseline, 0.5);
  const AnswerStats e = answer_stats({});
  EXPECT_EQ(e.rows, 0);
  EXPECT_DOUBLE_EQ(e.total_variation, 0.0);
  EXPECT_TRUE(e.majority_answer.empty());
}

}  // namespace
}  // namespace seer::rollout
