// Which BLAS LibTorch's fp32 matmuls run on in this process, and making OpenBLAS use the right kernel.
// Debian's LibTorch calls libblas.so.3: the reference BLAS (~4 GFLOP/s) unless OpenBLAS provides it.
// OpenBLAS 0.3.21 picks its kernel from the CPU model when it loads; it does not know recent Intel models
// (e.g. Emerald/Sapphire Rapids) and falls back to the generic `Prescott` kernel, 5-10x slower than the
// AVX-512 one it could use. The kernel is read from OPENBLAS_CORETYPE by the library's constructor, before
// main(), so the only fix from inside the program is to set it and re-execute.
#pragma once

#include <string>

namespace seer::app {

struct BlasInfo {
  std::string library;   ///< path of the loaded libblas/openblas (from /proc/self/maps), "" if none found
  std::string vendor;    ///< "OpenBLAS", "reference", or "other"
  std::string core;      ///< OpenBLAS kernel (openblas_get_corename), "" otherwise
  std::string config;    ///< OpenBLAS build configuration (openblas_get_config)
  int threads = 0;       ///< OpenBLAS threads (openblas_get_num_threads), 0 if unknown
};

BlasInfo detect_blas();

/// The OpenBLAS kernel this CPU should use when OpenBLAS chose a generic one ("SkylakeX" or "Cooperlake"
/// for AVX-512 CPUs, "Haswell" for AVX2), or "" when its own choice is fine (or it is not OpenBLAS).
std::string better_openblas_core(const BlasInfo& blas);

/// Called first in main(): when OpenBLAS runs a generic kernel on a CPU with a better one and the user
/// did not set OPENBLAS_CORETYPE, sets it and re-executes this program with the same arguments (same PID,
/// so it is transparent to mpirun and Slurm). Returns normally otherwise (or if exec fails).
void ensure_openblas_kernel(char** argv);

}  // namespace seer::app
