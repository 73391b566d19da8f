// core/malloc_tuning.h: the settings are taken (glibc accepts both values), and a user's MALLOC_* environment
// wins over them. That they make decode steps faster is measured by bench/peer_bench, not here.
#include <cstdlib>

#include <gtest/gtest.h>

#include "core/malloc_tuning.h"

namespace seer {
namespace {

TEST(MallocTuning, SetsBothUnlessTheEnvironmentChose) {
  ::unsetenv("MALLOC_MMAP_THRESHOLD_");
  ::unsetenv("MALLOC_TRIM_THRESHOLD_");
  EXPECT_TRUE(tune_malloc_for_tensors());
  ::setenv("MALLOC_TRIM_THRESHOLD_", "4096", 1);
  EXPECT_FALSE(tune_malloc_for_tensors());
  ::unsetenv("MALLOC_TRIM_THRESHOLD_");
  ::setenv("MALLOC_MMAP_THRESHOLD_", "4096", 1);
  EXPECT_FALSE(tune_malloc_for_tensors());
  ::unsetenv("MALLOC_MMAP_THRESHOLD_");
}

}  // namespace
}  // namespace seer
