// A floor under explicitly requested thread stack sizes, for every library in the process.
//
// glibc carves a thread's static TLS out of its stack and refuses (EINVAL, before any system call) a
// stack smaller than the process's static TLS block plus a minimum. OpenBLAS alone brings 60 KiB of TLS
// (0.3.21, openmp variant), LibTorch and libgomp add more, and civetweb (the HTTP server behind
// prometheus-cpp's /metrics endpoint, Debian build) asks for exactly 100 KiB stacks: with the fast BLAS
// installed, every /metrics endpoint failed with "Cannot create first worker thread". This definition
// interposes pthread_attr_setstacksize for the whole process (the executable's symbols come first in the
// dynamic linker's search order; exported with --export-dynamic-symbol) and raises any request below
// 1 MiB to 1 MiB; the default stack size (8 MiB from RLIMIT_STACK) is untouched.
#include <dlfcn.h>
#include <pthread.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>

namespace {
constexpr size_t kStackFloor = size_t{1} << 20;
using SetStackSize = int (*)(pthread_attr_t*, size_t);
}  // namespace

extern "C" int pthread_attr_setstacksize(pthread_attr_t* attr, size_t size) {
  static const auto real = reinterpret_cast<SetStackSize>(dlsym(RTLD_NEXT, "pthread_attr_setstacksize"));
  if (real == nullptr) return ENOSYS;
  return real(attr, std::max(size, kStackFloor));
}
