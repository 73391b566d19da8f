#include <cmath>

#include <gtest/gtest.h>

#include "core/check.h"
#include "trainer/lr_schedule.h"

namespace seer::trainer {
namespace {

TEST(LrSchedule, WarmupThenDecayAsTransformers) {
  // Warm-up: linear from 0.
  EXPECT_DOUBLE_EQ(learning_rate(LrSchedule::kCosine, 1.0, 0, 10, 110), 0.0);
  EXPECT_DOUBLE_EQ(learning_rate(LrSchedule::kCosine, 1.0, 5, 10, 110), 0.5);
  // Constant after warm-up.
  EXPECT_DOUBLE_EQ(learning_rate(LrSchedule::kConstant, 2e-6, 50, 10, 110), 2e-6);
  // Linear: (total - step) / (total - warmup).
  EXPECT_DOUBLE_EQ(learning_rate(LrSchedule::kLinear, 1.0, 10, 10, 110), 1.0);
  EXPECT_DOUBLE_EQ(learning_rate(LrSchedule::kLinear, 1.0, 60, 10, 110), 0.5);
  EXPECT_DOUBLE_EQ(learning_rate(LrSchedule::kLinear, 1.0, 110, 10, 110), 0.0);
  // Cosine: half-way is 0.5, the end is 0.
  EXPECT_NEAR(learning_rate(LrSchedule::kCosine, 1.0, 60, 10, 110), 0.5, 1e-12);
  EXPECT_NEAR(learning_rate(LrSchedule::kCosine, 1.0, 110, 10, 110), 0.0, 1e-12);
  EXPECT_NEAR(learning_rate(LrSchedule::kCosine, 1.0, 35, 10, 110), 0.5 * (1 + std::cos(M_PI * 0.25)), 1e-12);
  // No warm-up: full rate at step 0.
  EXPECT_DOUBLE_EQ(learning_rate(LrSchedule::kConstant, 3.0, 0, 0, 10), 3.0);
  EXPECT_THROW(parse_lr_schedule("cosin"), Error);
}

}  // namespace
}  // namespace seer::trainer
