// Where the golden tests run the model: SEER_TEST_DEVICE (cpu, default | cuda | cuda:N) and SEER_TEST_DTYPE
// (float32, default | bfloat16: bf16 products over float32 weights, compute.learner_dtype's autocast). The
// tolerance follows: rel < 1e-4 in float32 (TF32 off on CUDA), rel < 2e-2 in bfloat16, where greedy ids are no
// longer compared exactly (a near-tie may flip). scripts/gpu-check.sh runs them on a GPU in both dtypes.
#pragma once

#include <cstdlib>
#include <string>

#include <ATen/Context.h>

#include "model/linear.h"
#include "model/vlm.h"

namespace seer::model {

inline std::string golden_env(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? v : fallback;
}

inline bool golden_bf16() { return golden_env("SEER_TEST_DTYPE", "float32") == "bfloat16"; }
inline double golden_tolerance() { return golden_bf16() ? 2e-2 : 1e-4; }

/// LoadOptions on SEER_TEST_DEVICE; also sets the process's compute dtype from SEER_TEST_DTYPE and turns TF32 off
/// (cuDNN convolutions default to it, which alone would exceed 1e-4).
inline LoadOptions golden_load_options() {
  LoadOptions o;
  o.device = golden_env("SEER_TEST_DEVICE", "cpu");
  set_compute_dtype(golden_bf16() ? at::kBFloat16 : at::kFloat);
  at::globalContext().setAllowTF32CuDNN(false);
  at::globalContext().setAllowTF32CuBLAS(false);
  return o;
}

}  // namespace seer::model
