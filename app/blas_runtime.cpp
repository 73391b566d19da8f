#include "app/blas_runtime.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace seer::app {
namespace {

template <class Fn>
Fn symbol(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, name));
}

bool is_generic_core(const std::string& core) {
  for (const char* generic : {"Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine",
                              "Northwood", "Banias", "Unknown", "generic"}) {
    if (core == generic) return true;
  }
  return false;
}

}  // namespace

BlasInfo detect_blas() {
  BlasInfo info;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find("openblas") != std::string::npos || path.find("/libblas.so") != std::string::npos) {
      info.library = path;
      if (path.find("openblas") != std::string::npos) break;
    }
  }
  if (auto corename = symbol<char* (*)()>("openblas_get_corename")) {
    info.vendor = "OpenBLAS";
    info.core = corename();
    if (auto config = symbol<char* (*)()>("openblas_get_config")) info.config = config();
    if (auto threads = symbol<int (*)()>("openblas_get_num_threads")) info.threads = threads();
  } else if (info.library.find("/blas/libblas.so") != std::string::npos) {
    info.vendor = "reference";
  } else {
    info.vendor = info.library.empty() ? "none found" : "other";
  }
  return info;
}

std::string better_openblas_core(const BlasInfo& blas) {
  if (blas.vendor != "OpenBLAS" || !is_generic_core(blas.core)) return "";
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return __builtin_cpu_supports("avx512bf16") ? "Cooperlake" : "SkylakeX";
  if (__builtin_cpu_supports("avx2")) return "Haswell";
  return "";
}

void ensure_openblas_kernel(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") != nullptr) return;  // the user's choice (or our own re-exec)
  const std::string core = better_openblas_core(detect_blas());
  if (core.empty()) return;
  setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  execv("/proc/self/exe", argv);
  // exec failed: carry on with the generic kernel (slower, still correct)
}

}  // namespace seer::app
