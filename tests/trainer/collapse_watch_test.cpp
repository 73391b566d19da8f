// Collapse metrics and warnings against values worked out by hand.
#include <gtest/gtest.h>

#include "trainer/collapse_watch.h"
#include "trainer/grpo_update.h"

namespace seer::trainer {
namespace {

Completion sample(double reward, const std::string& answer, double accuracy) {
  Completion c;
  c.tokens = {1};
  c.reward = reward;
  c.answer = answer;
  c.components["accuracy"] = accuracy;
  return c;
}

// Group a: all answer "1", all right (equal rewards, 1 distinct answer).
// Group b: "1", "1", "2", "" with rewards 1, 1, 0, 0 (signal; 3 distinct answers: 1, 2, none).
// Group c: "3", "4" both wrong with equal rewards 0.1 (format only; 2 distinct answers).
std::vector<Group> groups() {
  Group a, b, c;
  a.prompt_id = "a";
  for (int k = 0; k < 4; ++k) a.completions.push_back(sample(1.0, "1", 1.0));
  b.prompt_id = "b";
  b.completions = {sample(1.0, "1", 1.0), sample(1.0, "1", 1.0), sample(0.0, "2", 0.0), sample(0.0, "", 0.0)};
  c.prompt_id = "c";
  c.completions = {sample(0.1, "3", 0.0), sample(0.1, "4", 0.0)};
  return {a, b, c};
}

TEST(CollapseWatch, GroupSignal) {
  const GroupSignal s = group_signal(groups());
  EXPECT_EQ(s.groups, 3);
  EXPECT_NEAR(s.equal_reward_fraction, 2.0 / 3.0, 1e-12);  // a and c
  EXPECT_NEAR(s.distinct_answers_mean, (1.0 + 3.0 + 2.0) / 3.0, 1e-12);
  EXPECT_NEAR(s.accuracy_spread, 1.0 / 3.0, 1e-12);        // only b has right and wrong samples
  const GroupSignal empty = group_signal({});
  EXPECT_EQ(empty.groups, 0);
  EXPECT_DOUBLE_EQ(empty.equal_reward_fraction, 0.0);
}

TEST(CollapseWatch, WarnsBelowTheEntropyFloorEveryNStepsWhileItLasts) {
  CollapseWatch w({0.05, 1.0, 3});
  const GroupSignal healthy{8, 0.0, 4.0, 0.5};
  EXPECT_TRUE(w.check(1, 0.50, healthy).empty());
  ASSERT_EQ(w.check(2, 0.01, healthy).size(), 1u);  // falls below: warns at once
  EXPECT_TRUE(w.check(3, 0.01, healthy).empty());
  EXPECT_TRUE(w.check(4, 0.01, healthy).empty());
  const auto again = w.check(5, 0.01, healthy);     // 3 steps later, still below
  ASSERT_EQ(again.size(), 1u);
  EXPECT_NE(again[0].find("entropy"), std::string::npos);
  EXPECT_TRUE(w.check(6, 0.30, healthy).empty());   // recovered
  EXPECT_EQ(w.check(7, 0.01, healthy).size(), 1u);  // and back: warns at once
}

TEST(CollapseWatch, WarnsWhenMostGroupsCarryNoSignal) {
  CollapseWatch w({0.0, 0.8, 10});
  EXPECT_TRUE(w.check(1, 0.0, GroupSignal{10, 0.8, 2.0, 0.2}).empty());  // 0.8 is not more than 0.8; floor 0 = off
  const auto out = w.check(2, 0.0, GroupSignal{10, 0.9, 1.1, 0.1});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].find("90% of groups"), std::string::npos) << out[0];
  CollapseWatch off({0.0, 1.0, 10});
  EXPECT_TRUE(off.check(1, 0.0, GroupSignal{10, 1.0, 1.0, 0.0}).empty());
}

}  // namespace
}  // namespace seer::trainer
