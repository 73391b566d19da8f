#!/usr/bin/env bash
# The CPU compute backend in one run: the `small` preset's learner step with the BLAS seer runs on
# (OpenBLAS after scripts/install-deps.sh) and all cores, next to Debian's reference BLAS on 1 thread
# (LD_LIBRARY_PATH puts /usr/lib/x86_64-linux-gnu/blas first, this process only), and the step's FLOP/s
# as a fraction of the best GEMM measured by the same benchmark.
# Usage: bench/cpu_backend_bench.sh [BUILD_DIR] [SECONDS]
set -euo pipefail
build=${1:-build}
seconds=${2:-4}
bench="$build/bin/learner_bench"
[ -x "$bench" ] || { echo "no $bench: build first (cmake --build $build)"; exit 1; }
fast=$("$bench" --preset small --seconds "$seconds" --all-paths)
echo "$fast"
ref=$(LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas OPENBLAS_CORETYPE= "$bench" --preset small --threads 1 --seconds "$seconds")
echo "$ref"
python3 - "$fast" "$ref" <<'PY'
import json, sys
fast = [json.loads(l) for l in sys.argv[1].splitlines() if l.startswith("{")]
ref = [json.loads(l) for l in sys.argv[2].splitlines() if l.startswith("{")]
best_gemm = max(r["gflops"] for r in fast if r["bench"] == "gemm")
steps = {r["path"]: r for r in fast if r["bench"] == "learner_sft_step"}
base = next(r for r in ref if r["bench"] == "learner_sft_step")
for path, r in steps.items():
    print(f"small {path}: {r['tokens_per_s']:.0f} tokens/s; forward+backward {r['fwd_bwd_gflops']:.1f} GFLOP/s = "
          f"{100 * r['fwd_bwd_gflops'] / best_gemm:.0f}% of the best GEMM ({best_gemm:.1f} GFLOP/s), whole step "
          f"{100 * r['gflops_per_rank'] / best_gemm:.0f}%; generate {r['generate_tokens_per_s']:.0f} tokens/s; "
          f"{r['tokens_per_s'] / base['tokens_per_s']:.1f}x the reference BLAS on 1 thread "
          f"({base['tokens_per_s']:.0f} tokens/s)")
PY
