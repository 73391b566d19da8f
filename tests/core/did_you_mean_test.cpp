#include <gtest/gtest.h>

#include "core/did_you_mean.h"

namespace seer {
namespace {

TEST(EditDistance, CountsEditsIncludingAdjacentSwaps) {
  EXPECT_EQ(edit_distance("", ""), 0);
  EXPECT_EQ(edit_distance("abc", ""), 3);
  EXPECT_EQ(edit_distance("", "ab"), 2);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
  EXPECT_EQ(edit_distance("lr_shedule", "lr_schedule"), 1);
  EXPECT_EQ(edit_distance("trian", "train"), 1);  // swap of adjacent letters is one edit
  EXPECT_EQ(edit_distance("abcdef", "abcdef"), 0);
}

TEST(ClosestMatch, SuggestsOnlyPlausibleTypos) {
  const std::vector<std::string> keys = {"lr", "lr_schedule", "steps", "warmup_steps"};
  EXPECT_EQ(closest_match("lr_shedule", keys), "lr_schedule");
  EXPECT_EQ(closest_match("stesp", keys), "steps");
  EXPECT_EQ(closest_match("completely_different", keys), "");
  EXPECT_EQ(closest_match("x", {"y"}), "y");  // one edit is always plausible
  EXPECT_EQ(closest_match("abc", {}), "");
}

}  // namespace
}  // namespace seer
