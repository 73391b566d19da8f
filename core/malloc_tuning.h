// glibc malloc settings for a process that allocates and frees tensors of megabytes many times a second.
// By default glibc serves blocks above a (dynamic) threshold with mmap and returns them with munmap, and trims
// the heap top it frees: every such tensor then costs fresh page faults when it is touched again. On this
// project's CPU machine that made whole decode steps up to 2x slower (bf16 generation of the `small` preset on
// 2 threads: 4.9-5.0 s with the defaults, 1.9-2.4 s with both settings below; float32 2.6-3.0 s -> 2.6-2.8 s;
// either setting alone made it slower). The price: up to kMallocTrimThreshold of freed heap stays with the
// process instead of going back to the system. PyTorch's CPU performance guide recommends jemalloc or tcmalloc
// for the same reason; seer keeps glibc and sets these two knobs.
#pragma once

#include <cstddef>

namespace seer {

/// Blocks up to this size come from the heap and are reused (glibc's largest allowed M_MMAP_THRESHOLD on 64-bit).
inline constexpr std::size_t kMallocMmapThreshold = std::size_t{32} << 20;
/// Freed heap kept by the process before any is returned to the system.
inline constexpr std::size_t kMallocTrimThreshold = std::size_t{1} << 30;

/// Sets M_MMAP_THRESHOLD and M_TRIM_THRESHOLD as above, unless the environment sets either
/// (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_: the user's choice wins). Call first thing in main(), before
/// threads start. Returns true when it set them.
bool tune_malloc_for_tensors();

}  // namespace seer
