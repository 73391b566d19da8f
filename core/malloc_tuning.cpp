#include "core/malloc_tuning.h"

#include <malloc.h>

#include <cstdlib>

namespace seer {

bool tune_malloc_for_tensors() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr || std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr) return false;
  const bool mmap_set = mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMallocMmapThreshold)) == 1;
  const bool trim_set = mallopt(M_TRIM_THRESHOLD, static_cast<int>(kMallocTrimThreshold)) == 1;
  return mmap_set && trim_set;
}

}  // namespace seer
