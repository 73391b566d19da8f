#!/usr/bin/env bash
# The GPU check of the CUDA build, one prepared script for one NVIDIA GPU (no network needed; 16 cores; its own
# PyTorch with a CUDA LibTorch). It
#   1. builds seer against that LibTorch (SEER_LIBTORCH, else the torch that python3 imports, else .venv-cuda)
#      with SEER_CUDA and SEER_NCCL, in build-gpu/;
#   2. runs the golden model tests on CUDA, float32 (rel < 1e-4, greedy ids exact) and bfloat16 products
#      (rel < 2e-2) (tests/model/golden_env.h), and the unit tests of the model (SDPA vs eager attention);
#   3. runs a short GRPO `seer run` on the tiny preset with the learner and the rollout worker on the GPU;
#   4. prints generation and training tokens/s.
# Golden models: $SEER_GOLDEN_DIR, else ../shared/golden when present; the repository's tests/golden always.
# Exit 0 only when every step passed. Usage: scripts/gpu-check.sh   (about 5 minutes on 16 cores)
set -u -o pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
failed=0
step() { echo; echo "== $1 ($(( $(date +%s) - t0 )) s)"; }
fail() { echo "FAIL: $1"; failed=1; }

step "GPU"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || fail "nvidia-smi"

step "LibTorch"
torch_dir=${SEER_LIBTORCH:-}
if [ -z "$torch_dir" ]; then
  torch_dir=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
fi
if [ -z "$torch_dir" ] && [ -x .venv-cuda/bin/python ]; then
  torch_dir=$(.venv-cuda/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))')
fi
[ -n "$torch_dir" ] && [ -d "$torch_dir/share/cmake/Torch" ] || { echo "no CUDA LibTorch found (set SEER_LIBTORCH)"; exit 1; }
echo "$torch_dir"

step "build (build-gpu, $(nproc) jobs)"
jobs=$(nproc)
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DSEER_CUDA=ON -DSEER_NCCL=ON -DSEER_LIBTORCH="$torch_dir" \
  >build-gpu.configure.log 2>&1 || { tail -30 build-gpu.configure.log; echo "FAIL: configure"; exit 1; }
cmake --build build-gpu -j "$jobs" --target seer model_golden_tests qwen2vl_golden_tests model_tests 2>&1 | tail -3
[ "${PIPESTATUS[0]}" -eq 0 ] || { echo "FAIL: build"; exit 1; }
seer=build-gpu/bin/seer
"$seer" doctor --seconds 0.2 | head -4

step "golden tests on CUDA"
if [ -z "${SEER_GOLDEN_DIR:-}" ] && [ -d ../shared/golden ]; then export SEER_GOLDEN_DIR=$(cd ../shared/golden && pwd); fi
for dtype in float32 bfloat16; do
  for t in model_golden_tests qwen2vl_golden_tests; do
    filter='*'
    [ "$t" = model_golden_tests ] && [ -z "${SEER_GOLDEN_DIR:-}" ] && continue  # LLaVA goldens live in ../shared only
    [ "$t" = qwen2vl_golden_tests ] && filter='*PolicyLoads*:*GenerateMatches*'
    out=$(SEER_TEST_DEVICE=cuda SEER_TEST_DTYPE=$dtype "build-gpu/tests/$t" --gtest_filter="$filter" 2>&1)
    if grep -q "^\[  PASSED  \]" <<<"$out" && ! grep -q "FAILED" <<<"$out"; then
      echo "ok: $t on cuda, $dtype: $(grep '^\[  PASSED' <<<"$out")"
    else
      grep -E "Failure|Expected|Which is|rel_error|FAILED" <<<"$out" | head -20; fail "$t on cuda, $dtype"
    fi
  done
done
out=$(build-gpu/tests/model_tests --gtest_filter='Attention*:ActivationCheckpoint*' 2>&1)
grep -q "^\[  PASSED  \]" <<<"$out" && ! grep -q "FAILED\|SKIPPED" <<<"$out" && echo "ok: SDPA vs eager attention, checkpointing" \
  || { tail -20 <<<"$out"; fail "model_tests (attention)"; }

step "GRPO seer run on the GPU (tiny preset)"
tmp=$(mktemp -d)
"$seer" init-model "$tmp/model" --preset tiny --seed 3 >/dev/null && \
  "$seer" data make digits-count --out "$tmp/data" --train 64 --test 8 >/dev/null || fail "fixture"
cat >"$tmp/config.yaml" <<YAML
name: gpu-check
run_dir: $tmp/run
log_level: debug
model:
  path: $tmp/model
  device: cuda
data:
  train: $tmp/data/train.jsonl
rollout:
  workers: 1
  group_size: 8
  max_new_tokens: 64
  prompts_per_call: 8
algorithm:
  name: grpo
  kl_coef: 0.04
trainer:
  steps: 8
  prompts_per_step: 8
  micro_batch_size: 16
  lr: 1.0e-4
compute:
  learner_dtype: bfloat16
  rollout_dtype: bfloat16
checkpoint:
  every_steps: 0
metrics:
  prometheus: false
YAML
if timeout 300 "$seer" run "$tmp/config.yaml" >"$tmp/run.out" 2>&1; then
  echo "ok: seer run finished $(wc -l <"$tmp/run/metrics.jsonl") steps"
else
  tail -30 "$tmp/run.out"; fail "seer run"
fi
grep -h "device\|cuda\|collectives" "$tmp"/run/logs/*.log 2>/dev/null | grep -v debug | head -5
python3 - "$tmp" <<'PY'
import glob, json, re, sys
tmp = sys.argv[1]
steps = [json.loads(l) for l in open(f"{tmp}/run/metrics.jsonl")]
train = [s["tokens_per_second"] for s in steps[2:]] or [s["tokens_per_second"] for s in steps]
gen = []
for path in glob.glob(f"{tmp}/run/logs/rollout*.log"):
    gen += [float(m.group(1)) for m in re.finditer(r"generated .*?, ([0-9.]+) tok/s", open(path).read())]
gen = gen[2:] or gen
print(f"training tokens/s (learner, median of steps 3+): {sorted(train)[len(train)//2]:.0f}")
print(f"generation tokens/s (worker, median of calls 3+): {sorted(gen)[len(gen)//2]:.0f}" if gen else "generation tokens/s: not logged")
PY
rm -rf "$tmp"
echo; echo "gpu-check: $( [ $failed -eq 0 ] && echo passed || echo FAILED ) in $(( $(date +%s) - t0 )) s"
exit $failed
