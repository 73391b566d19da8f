#!/usr/bin/env bash
# deploy/mpirun/launch.sh on this host: a hostfile naming localhost, 2 learner ranks, 2 rollout workers and the
# reward service through mpirun; the run finishes its steps, exits 0 and leaves no process behind.
# Usage: launch_test.sh SEER_BINARY
set -u
. "$(dirname "$0")/lib.sh"
seer=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'pkill -9 -f "$tmp/" 2>/dev/null; rm -rf "$tmp"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 OMP_WAIT_POLICY=PASSIVE
tiny_fixture "$seer" "$tmp" digits-count 32 8
echo "localhost slots=8" >"$tmp/hosts"
cat >"$tmp/config.yaml" <<YAML
name: launch-test
run_dir: $tmp/run
model:
  path: $tmp/model
data:
  train: $tmp/data/train.jsonl
rollout:
  group_size: 4
  max_new_tokens: 12
  prompts_per_call: 4
algorithm:
  name: grpo
  kl_coef: 0.0
trainer:
  steps: 4
  prompts_per_step: 4
  micro_batch_size: 4
  lr: 1.0e-4
compute:
  threads: 1
metrics:
  prometheus: false
YAML
timeout 240 bash "$here/../../deploy/mpirun/launch.sh" --config "$tmp/config.yaml" --hostfile "$tmp/hosts" \
  --learner-ranks-per-node 2 --rollout-hosts localhost --workers-per-host 2 --seer "$seer" >"$tmp/launch.out" 2>&1
status=$?
failed=0
if [ $status -eq 0 ] && [ "$(wc -l <"$tmp/run/metrics.jsonl")" -eq 4 ] && grep -q "\[learner 1/2\]" "$tmp/run/logs/learner.log"; then
  echo "ok: launch.sh ran 4 steps on 2 learner ranks"
else
  echo "FAIL: launch.sh exit $status"; tail -20 "$tmp/launch.out" "$tmp/run/logs/learner.log"; failed=1
fi
if [ "$(grep -c "the learner finished training; worker" "$tmp/run/logs/rollout.log")" -eq 2 ]; then echo "ok: both rollout workers ran and left at the end"
else echo "FAIL: rollout workers"; tail -10 "$tmp/run/logs/rollout.log"; failed=1; fi
if pgrep -f "$tmp/config.yaml" >/dev/null; then echo "FAIL: processes left: $(pgrep -af "$tmp/config.yaml")"; failed=1
else echo "ok: nothing left running"; fi
exit $failed
