#!/usr/bin/env bash
# The thread plan against every static split (issue 23), in one run with alternating repetitions: a short
# `seer run` of the `small` preset (G 8, 1 prompt per step, KL 0.04, 64 new tokens) at rollout.max_staleness 0
# and 1, once with the plan (compute.threads 0) and once with each split a user could set by hand
# (compute.learner_threads / compute.rollout_threads: half or all of the cores each; half/half is what the plan
# was before, cores / seer processes). Reports learner steps per minute (after 2 warm-up steps, from
# metrics.jsonl's times) and rollout tokens/s (the steps' rollout/tokens_per_second), medians over repetitions.
# Not part of CI. Usage: bench/run_bench.sh [SEER] [--steps N] [--reps R] [--staleness "0 1"]
set -euo pipefail
seer=build/bin/seer steps=12 reps=2 stalenesses="0 1"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --staleness) stalenesses=$2; shift 2 ;;
    *) seer=$1; shift ;;
  esac
done
[[ -x "$seer" ]] || { echo "run_bench: no seer binary at $seer" >&2; exit 1; }
seer=$(realpath "$seer")
cores=$(nproc)
half=$(( cores / 2 > 0 ? cores / 2 : 1 ))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$seer" init-model "$tmp/model" --preset small --seed 1 >/dev/null 2>&1
"$seer" data make digits-classify --out "$tmp/data" --train 64 --test 8 >/dev/null 2>&1

run() {  # run NAME STALENESS LEARNER_THREADS ROLLOUT_THREADS (0 0 = the plan)
  local dir="$tmp/$1"
  rm -rf "$dir"
  cat >"$tmp/$1.yaml" <<YAML
name: bench
run_dir: $dir
model: {path: $tmp/model, freeze_vision_tower: true}
data: {train: $tmp/data/train.jsonl}
rollout: {workers: 1, group_size: 8, max_new_tokens: 64, prompts_per_call: 1, preprocess_threads: 1, max_staleness: $2}
algorithm: {name: grpo, kl_coef: 0.04}
trainer: {steps: $steps, prompts_per_step: 1, micro_batch_size: 8, lr: 1.0e-5}
checkpoint: {every_steps: 0, keep_last: 1}
metrics: {prometheus: false, log_every_steps: 5}
compute: {learner_threads: $3, rollout_threads: $4}
YAML
  "$seer" run "$tmp/$1.yaml" --no-preflight >"$tmp/$1.out" 2>&1 || { echo "run_bench: $1 failed:"; tail -20 "$tmp/$1.out"; exit 1; }
  python3 - "$dir/metrics.jsonl" "$1" >>"$tmp/results.jsonl" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
warm = rows[2:]
minutes = (warm[-1]["time"] - rows[1]["time"]) / 60
rate = [r["rollout/tokens_per_second"] for r in warm if "rollout/tokens_per_second" in r]
print(json.dumps({"variant": sys.argv[2], "steps_per_minute": len(warm) / minutes,
                  "rollout_tokens_per_s": statistics.median(rate) if rate else 0.0,
                  "threads_learner": warm[-1].get("threads/learner"), "threads_rollout": warm[-1].get("threads/rollout")}))
PY
}

variants=()
for s in $stalenesses; do
  variants+=("s$s-plan:$s:0:0" "s$s-$half-$half:$s:$half:$half" "s$s-$cores-$half:$s:$cores:$half"
             "s$s-$half-$cores:$s:$half:$cores" "s$s-$cores-$cores:$s:$cores:$cores")
done
for rep in $(seq "$reps"); do
  for v in "${variants[@]}"; do
    IFS=: read -r name s l r <<<"$v"
    echo "run_bench: repetition $rep, $name" >&2
    run "$name" "$s" "$l" "$r"
  done
done

python3 - "$tmp/results.jsonl" "$cores" "$half" <<'PY'
import collections, json, statistics, sys
cores, half = int(sys.argv[2]), int(sys.argv[3])
by = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    by[r["variant"]].append(r)
def med(v, key): return statistics.median(r[key] for r in by[v])
print(f"seer run, small preset, G 8, 1 prompt/step, {cores} cores; medians of {len(next(iter(by.values())))} alternating repetitions")
print(f"{'variant (learner/rollout threads)':36} {'steps/min':>9} {'rollout tok/s':>13}  threads used")
for s in sorted({int(v[1:v.index("-")]) for v in by}):
    names = [v for v in by if v.startswith(f"s{s}-")]
    for v in names:
        r = by[v][-1]
        print(f"{v:36} {med(v, 'steps_per_minute'):9.2f} {med(v, 'rollout_tokens_per_s'):13.0f}  "
              f"{r['threads_learner']:.0f}/{r['threads_rollout']:.0f}")
    plan = med(f"s{s}-plan", "steps_per_minute")
    statics = {v: med(v, "steps_per_minute") for v in names if v != f"s{s}-plan"}
    best = max(statics, key=statics.get)
    before = statics[f"s{s}-{half}-{half}"]
    print(f"max_staleness {s}: plan = {plan / before:.2f}x the previous default ({half}/{half}), "
          f"{plan / statics[best]:.2f}x the best static split ({best})")
PY
