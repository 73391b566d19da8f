#!/usr/bin/env bash
# `seer run` on one machine: the whole GRPO loop (reward service, 1 learner rank, 1 rollout worker) runs
# its steps and exits 0 with a log per process; Ctrl-C (SIGINT) mid-run stops everything within the grace
# period, leaves no process behind, and leaves a checkpoint that `seer run --resume` continues from. `seer report`
# summarises the finished run.
# Usage: run_test.sh SEER_BINARY
set -u
seer=$1
tmp=$(mktemp -d)
run_pid=""
trap '[ -n "$run_pid" ] && kill -9 "$run_pid" 2>/dev/null; pkill -9 -f "$tmp/" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

tiny_fixture "$seer" "$tmp" digits-classify 64 8
cat >"$tmp/config.yaml" <<YAML
name: run-test
run_dir: $tmp/run
seed: 5
model:
  path: $tmp/model
data:
  train: $tmp/data/train.jsonl
rollout:
  workers: 1
  group_size: 4
  max_new_tokens: 12
  prompts_per_call: 4
  preprocess_threads: 1
algorithm:
  name: grpo
  kl_coef: 0.0
trainer:
  steps: 6
  prompts_per_step: 4
  micro_batch_size: 4
  lr: 1.0e-4
checkpoint:
  every_steps: 2
  keep_last: 2
metrics:
  prometheus: false
YAML

timeout 150 "$seer" run "$tmp/config.yaml" >"$tmp/run.out" 2>&1
status=$?
[ $status -eq 0 ] && ok "seer run exits 0" || { bad "seer run exit $status"; tail -20 "$tmp/run.out"; }
[ "$(steps_done "$tmp/run/metrics.jsonl")" -eq 6 ] && ok "6 GRPO steps recorded" || bad "steps: $(steps_done "$tmp/run/metrics.jsonl")"
for f in reward learner rollout-0; do
  [ -s "$tmp/run/logs/$f.log" ] || bad "no log $f.log"
done
grep -q "step 6/6" "$tmp/run.out" && ok "the learner's progress is shown in the terminal" || bad "no progress lines in seer run's output"
grep -q "the learner finished training" "$tmp/run/logs/rollout-0.log" && ok "the worker left when training ended" \
  || bad "the worker was not told training ended"
sleep 0.5
pgrep -f "$tmp/run/config.yaml" >/dev/null && bad "processes left behind: $(pgrep -af "$tmp/run/config.yaml")" \
  || ok "no process left behind"

# seer report on the finished run: the summary names what happened, the plots are PNGs; a metrics line cut
# mid-write (a killed run) is skipped and named; a folder that is no run is refused.
"$seer" report "$tmp/run" >"$tmp/report.out" 2>&1
status=$?
if [ $status -eq 0 ] && grep -q "^run $tmp/run (run-test, grpo): 6 of 6 steps recorded" "$tmp/report.out" \
   && grep -q "^reward " "$tmp/report.out" && grep -q "^groups.jsonl: 24 groups, 96 samples (G = 4)" "$tmp/report.out" \
   && grep -q "^faults: stale groups dropped 0" "$tmp/report.out" \
   && [ "$(head -c 4 "$tmp/run/report/reward.png" | tail -c 3)" = "PNG" ] && [ -s "$tmp/run/report/health.png" ]
then ok "seer report: 6 steps, 24 groups of 4, faults counted, reward.png and health.png"
else bad "seer report (exit $status)"; cat "$tmp/report.out"; fi
printf '{"step":7,"rew' >>"$tmp/run/metrics.jsonl"
"$seer" report "$tmp/run" --no-plots >"$tmp/report2.out" 2>&1
grep -q "^note: $tmp/run/metrics.jsonl:7: skipped" "$tmp/report2.out" && ok "seer report names a cut metrics line and goes on" \
  || { bad "seer report on a cut metrics line"; cat "$tmp/report2.out"; }
"$seer" report "$tmp/data" >"$tmp/report3.out" 2>&1
[ $? -eq 1 ] && grep -q "no metrics.jsonl here" "$tmp/report3.out" && ok "seer report refuses a folder that is no run" \
  || { bad "seer report on a non-run folder"; cat "$tmp/report3.out"; }

# Ctrl-C mid-run
rm -rf "$tmp/run"
"$seer" run "$tmp/config.yaml" --set trainer.steps=400 >"$tmp/run2.out" 2>&1 &
run_pid=$!
for _ in $(seq 1200); do [ "$(steps_done "$tmp/run/metrics.jsonl")" -ge 3 ] && break; sleep 0.1; done
kill -INT $run_pid
for _ in $(seq 600); do kill -0 $run_pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $run_pid 2>/dev/null; then bad "seer run still running 60 s after SIGINT"; kill -9 $run_pid; fi
wait $run_pid
run_pid=""
sleep 0.5
pgrep -f "$tmp/run/config.yaml" >/dev/null && bad "processes left after Ctrl-C: $(pgrep -af "$tmp/run/config.yaml")" \
  || ok "Ctrl-C leaves no process behind"
stopped_at=$(steps_done "$tmp/run/metrics.jsonl")
[ -f "$tmp/run/checkpoints/latest" ] || [ -L "$tmp/run/checkpoints/latest" ] && ok "a checkpoint after Ctrl-C (step $stopped_at)" \
  || bad "no checkpoint after Ctrl-C"
timeout 150 "$seer" run "$tmp/config.yaml" --resume --set trainer.steps=$((stopped_at + 2)) >"$tmp/run3.out" 2>&1
status=$?
[ $status -eq 0 ] && grep -q "resuming from" "$tmp/run/logs/learner.log" && grep -q "step $((stopped_at + 2))/$((stopped_at + 2))" "$tmp/run3.out" \
  && ok "seer run --resume continues from it" || { bad "resume after Ctrl-C (exit $status)"; tail -20 "$tmp/run3.out"; }
# Across the stop and the resume, every prompt is trained on once (64 rows: no second epoch in these steps).
dups=$(python3 -c '
import collections, json, sys
ids = collections.Counter(g["id"] for line in open(sys.argv[1]) for g in json.loads(line)["groups"])
print(" ".join(f"{k}x{n}" for k, n in ids.items() if n > 1))' "$tmp/run/groups.jsonl")
[ -z "$dups" ] && ok "no prompt trained twice across Ctrl-C and --resume" || bad "prompts trained twice: $dups"
finish
