#!/usr/bin/env bash
# `seer run` puts a failure's reason on screen: a model path that does not exist fails within 10 s with the path
# printed (the learner's own error line, not only "see the log"); a bad dataset row is named by the preflight
# before anything starts, and with --no-preflight the learner that dies on it has its error line printed with the
# log's path. As root, seer run's own mpirun (2 learner ranks) runs without the user
# setting OMPI_ALLOW_RUN_AS_ROOT, and says so. `seer run --dry-run` prints the plan and starts and creates nothing.
# Usage: run_failure_test.sh SEER_BINARY
set -u
. "$(dirname "$0")/lib.sh"
seer=$1
tmp=$(mktemp -d)
trap 'pkill -9 -f "$tmp/" 2>/dev/null; rm -rf "$tmp"' EXIT
unset OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM
export OMPI_MCA_rmaps_base_oversubscribe=1 OMP_WAIT_POLICY=PASSIVE
tiny_fixture "$seer" "$tmp" digits-classify 16 4
config() { # FILE MODEL_PATH TRAIN ALGORITHM RANKS
  cat >"$1" <<YAML
name: failure-test
run_dir: $tmp/run-$(basename "$1" .yaml)
model:
  path: $2
data:
  train: $3
rollout:
  workers: 1
  group_size: 2
  max_new_tokens: 8
  prompts_per_call: 2
algorithm:
  name: $4
  kl_coef: 0.0
trainer:
  steps: 2
  prompts_per_step: 4
  micro_batch_size: 2
compute:
  threads: 1
cluster:
  learner_ranks: $5
metrics:
  prometheus: false
YAML
}

config "$tmp/missing.yaml" "$tmp/no-such-model" "$tmp/data/train.jsonl" grpo 1
start=$(date +%s)
timeout 60 "$seer" run "$tmp/missing.yaml" >"$tmp/missing.out" 2>&1
status=$?
took=$(( $(date +%s) - start ))
if [ $status -ne 0 ] && [ $status -ne 124 ] && [ $took -le 10 ]; then ok "a missing model path fails in ${took} s (exit $status)"
else bad "missing model path: exit $status after ${took} s"; fi
grep -q "$tmp/no-such-model" "$tmp/missing.out" && ok "the missing path is on screen" \
  || { bad "the missing path is not on screen"; cat "$tmp/missing.out"; }

config "$tmp/plan.yaml" "$tmp/model" "$tmp/data/train.jsonl" grpo 2
timeout 30 "$seer" run --dry-run "$tmp/plan.yaml" >"$tmp/plan.out" 2>&1
status=$?
if [ $status -eq 0 ] && grep -q "learner: 2 rank(s) under mpirun -np 2" "$tmp/plan.out" \
   && grep -q "rollout-0: group size 2" "$tmp/plan.out" && grep -q "reward service" "$tmp/plan.out" \
   && grep -q "^  path: $tmp/model" "$tmp/plan.out" && [ ! -e "$tmp/run-plan" ]; then
  ok "--dry-run prints the processes, ranks and resolved config, and creates no run folder"
else bad "--dry-run: exit $status"; cat "$tmp/plan.out"; ls "$tmp"; fi
# The thread plan: with max_staleness 0 learner and worker alternate, so each gets every core; with 1 they share.
cores=$(nproc)
"$seer" run --dry-run "$tmp/plan.yaml" --set cluster.learner_ranks=1 --set compute.threads=0 \
  --set rollout.max_staleness=0 >"$tmp/plan0.out" 2>&1
"$seer" run --dry-run "$tmp/plan.yaml" --set cluster.learner_ranks=1 --set compute.threads=0 \
  --set rollout.max_staleness=1 >"$tmp/plan1.out" 2>&1
if grep -q "learner: 1 rank(s), $cores threads each \[plan: $cores cores / 1 learner rank; rollout.max_staleness 0" "$tmp/plan0.out" \
   && grep -q "rollout-0: .* $cores threads \[plan:" "$tmp/plan0.out" \
   && grep -q "learner: 1 rank(s), $(( cores / 2 > 0 ? cores / 2 : 1 )) threads each \[plan: $cores cores / 2 processes computing at once" "$tmp/plan1.out"; then
  ok "--dry-run shows the thread plan: every core each at max_staleness 0, shared at 1"
else bad "thread plan in --dry-run"; grep "process" "$tmp/plan0.out" "$tmp/plan1.out"; fi

head -3 "$tmp/data/sft_train.jsonl" >"$tmp/data/bad.jsonl"
echo '{"conversations": [{"from": "human", "value": "<image> what digit?"}], "image": "missing.png"}' >>"$tmp/data/bad.jsonl"
config "$tmp/badrow.yaml" "$tmp/model" "$tmp/data/bad.jsonl" sft 1
timeout 60 "$seer" run "$tmp/badrow.yaml" >"$tmp/preflight.out" 2>&1
status=$?
if [ $status -ne 0 ] && grep -q "^error: $tmp/data/bad.jsonl:4: " "$tmp/preflight.out" && [ "$(grep -c "^error: " "$tmp/preflight.out")" -eq 1 ] \
   && grep -q "preflight failed, nothing was started" "$tmp/preflight.out" && [ ! -e "$tmp/run-badrow" ]; then
  ok "the preflight names the bad row (file:line, image) before anything starts"
else bad "preflight of a bad row: exit $status"; cat "$tmp/preflight.out"; fi
timeout 120 "$seer" run "$tmp/badrow.yaml" --no-preflight >"$tmp/badrow.out" 2>&1
status=$?
if [ $status -ne 0 ] && grep -q "bad.jsonl:4" "$tmp/badrow.out" && grep -q "learner.log" "$tmp/badrow.out"; then
  ok "with --no-preflight, the learner's error (the bad row, file:line) and its log path are on screen"
else bad "bad row: exit $status"; cat "$tmp/badrow.out"; fi

if [ "$(id -u)" -eq 0 ]; then
  config "$tmp/root.yaml" "$tmp/model" "$tmp/data/sft_train.jsonl" sft 2
  timeout 120 "$seer" run "$tmp/root.yaml" >"$tmp/root.out" 2>&1
  status=$?
  if [ $status -eq 0 ] && grep -q "running as root" "$tmp/root.out"; then ok "as root, seer run's mpirun runs 2 ranks and says why"
  else bad "root mpirun: exit $status"; tail -20 "$tmp/root.out"; fi
fi
finish
