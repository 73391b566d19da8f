#!/usr/bin/env bash
# seer ÷ Hugging Face transformers on the same machine, checkpoint, workload and threads (issue 20's yardstick).
# One run, alternating repetitions (seer float32, seer with compute.*_dtype auto, the peer), medians of each:
#   rollout tokens/s   P prompts x G = 8 samples, the image's tokens in every prompt (bench/peer_bench.cpp)
#   GRPO step          reference + policy forward/backward + AdamW on those samples, completion tokens/s
#   SFT                trained tokens/s on the same sequences
# then, from bench/learner_bench on 2 MPI ranks: the learner's forward+backward FLOP/s ÷ the best GEMM of that
# run, and the bucketed all-reduce's bus bandwidth ÷ one raw MPI_Allreduce of the same bytes.
# Needs the default build (make build) and the peer environment (bench/peer/setup.sh, run here if missing).
# Not part of CI. Usage: bench/compare.sh [--reps 3] [--threads 2] [--build build] [--prompts 4] [--new-tokens 64]
set -euo pipefail
cd "$(dirname "$0")/.."
reps=3 threads=2 build=build prompts=4 new_tokens=64
while [ $# -gt 0 ]; do
  case $1 in
    --reps) reps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --prompts) prompts=$2; shift 2 ;;
    --new-tokens) new_tokens=$2; shift 2 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for b in seer peer_bench learner_bench; do
  [ -x "$build/bin/$b" ] || { echo "compare.sh: $build/bin/$b missing: run 'make build' first" >&2; exit 1; }
done
python=$(bash bench/peer/setup.sh)
work=$build/compare
mkdir -p "$work"
model=$work/small-model
[ -f "$model/config.json" ] || "$build/bin/seer" init-model "$model" --preset small --seed 1 >/dev/null 2>&1
out=$work/results.jsonl
: >"$out"
args=(--model "$model" --threads "$threads" --prompts "$prompts" --group 8 --new-tokens "$new_tokens" --text-tokens 32)
for r in $(seq 1 "$reps"); do
  echo "repetition $r/$reps" >&2
  "$build/bin/peer_bench" "${args[@]}" --dtype float32 | sed "s/^{/{\"side\":\"seer\",\"rep\":$r,/" >>"$out"
  "$build/bin/peer_bench" "${args[@]}" --dtype auto | sed "s/^{/{\"side\":\"seer_auto\",\"rep\":$r,/" >>"$out"
  "$python" bench/peer/peer_bench.py "${args[@]}" 2>/dev/null | sed "s/^{/{\"side\": \"peer\", \"rep\": $r, /" >>"$out"
done
# Learner FLOP/s and all-reduce: 2 ranks sharing the threads.
per_rank=$(( threads / 2 > 0 ? threads / 2 : 1 ))
if [ "$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi  # containers
mpirun -np 2 --oversubscribe "$build/bin/learner_bench" --preset small --threads "$per_rank" --all-paths --seconds 4 \
  2>/dev/null | grep '^{' | sed 's/^{/{"side":"learner",/' >>"$out"
python3 - "$out" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(side, part):
    v = [r["tokens_per_s"] for r in rows if r.get("side") == side and r.get("part") == part]
    return statistics.median(v) if v else float("nan"), len(v)
peer = next((r for r in rows if r.get("side") == "peer" and r.get("part") == "rollout"), {})
auto = {}  # part -> the dtypes auto chose, one per repetition
for r in rows:
    if r.get("side") == "seer_auto":
        auto.setdefault(r["part"], []).append(r["dtype"])
def chosen(part):
    v = auto.get(part, [])
    return ", ".join(f"{d} x{v.count(d)}" for d in sorted(set(v))) or "?"
print(f"peer: transformers {peer.get('transformers')} on torch {peer.get('torch')}; medians of "
      f"{med('peer', 'rollout')[1]} alternating repetitions, tokens/s")
print(f"{'':10s} {'peer':>9s} {'seer fp32':>10s} {'ratio':>6s} {'seer auto':>10s} {'ratio':>6s}  auto chose")
for part, name in (("rollout", "rollout"), ("grpo", "GRPO step"), ("sft", "SFT")):
    p, s, a = med("peer", part)[0], med("seer", part)[0], med("seer_auto", part)[0]
    print(f"{name:10s} {p:9.1f} {s:10.1f} {s / p:6.2f} {a:10.1f} {a / p:6.2f}  {chosen(part)}")
for r in rows:
    if r.get("side") == "learner" and r.get("bench") == "learner_sft_step":
        line = (f"learner ({r['path']}, {r['world']} ranks x {r['threads_per_rank']} threads): forward+backward "
                f"{r['fwd_bwd_gflops']:.1f} GFLOP/s = {100 * r['fwd_bwd_vs_gemm']:.0f}% of the best GEMM")
        if r.get("bucketed_vs_raw"):
            line += (f"; all-reduce busbw vs raw MPI_Allreduce: persistent buckets (overlap_allreduce on, the "
                     f"default) {100 * r.get('persistent_vs_raw', 0):.0f}%, copied buckets (off) "
                     f"{100 * r['bucketed_vs_raw']:.0f}%")
        print(line)
PY
echo "(all measurements: $out)"
