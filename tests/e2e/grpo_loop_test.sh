#!/usr/bin/env bash
# The GRPO loop as separate processes: reward service, learner ranks (mpirun), rollout workers.
#  A. 2 learner ranks + 2 workers, 5 steps: every trained group's weight_version is within max_staleness of
#     the step's, every worker's loaded weights have the learner's checksum for that version, no group was
#     refused for a checksum, the workers leave when training ends, and a push without the token is refused.
#  B. 1 learner rank + 2 workers, 16 steps: kill -9 one worker mid-run; its leased prompts are handed out again
#     and each is trained on exactly once (no prompt id twice in groups.jsonl); a restarted worker rejoins;
#     then the reward service is stopped for 10 s: no sample is scored 0 for it (no unscorable status), and
#     the run completes.
# Usage: grpo_loop_test.sh SEER_BINARY
set -u
seer=$1
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; [ -n "${SEER_KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OMP_WAIT_POLICY=PASSIVE SEER_TEST_TOKEN=e2e-token
# wait_steps METRICS_JSONL N SECONDS: waits until N learner steps are recorded.
wait_steps() { for _ in $(seq $(($3 * 10))); do [ "$(steps_done "$1")" -ge "$2" ] && return 0; sleep 0.1; done; return 1; }

tiny_fixture "$seer" "$tmp" digits-classify 96 8
reward_port=$(free_port)
cat >"$tmp/config.yaml" <<YAML
name: grpo-loop-test
seed: 5
model:
  path: $tmp/model
data:
  train: $tmp/data/train.jsonl
rollout:
  group_size: 4
  max_new_tokens: 12
  prompts_per_call: 2
  preprocess_threads: 1
  max_staleness: 1
  lease_timeout_seconds: 3
reward:
  address: 127.0.0.1:$reward_port
  threads: 1
algorithm:
  name: grpo
  kl_coef: 0.04
  kl_estimator: k1   # a gradient even when every reward is equal: the weights change every step
trainer:
  prompts_per_step: 4
  micro_batch_size: 4
  lr: 1.0e-4
checkpoint:
  every_steps: 0
  keep_last: 1
cluster:
  auth_token_env: SEER_TEST_TOKEN
compute:
  threads: 1
metrics:
  prometheus: false
YAML

start_reward() {
  "$seer" reward --config "$tmp/config.yaml" >>"$tmp/reward.log" 2>&1 &
  reward_pid=$!
  pids+=("$reward_pid")
}
# start_worker RUN_DIR ID
start_worker() {
  "$seer" rollout --config "$tmp/config.yaml" --coordinator "@$1/coordinator.address" --worker-id "$2" \
    --processes-on-host 4 >"$1/$2.log" 2>&1 &
  pids+=("$!")
  eval "pid_$2=$!"
}

start_reward
# ---------- A: 2 learner ranks, 2 workers, 5 steps
runA=$tmp/runA
mkdir -p "$runA"
mpirun -np 2 "$seer" train "$tmp/config.yaml" --set run_dir="$runA" --set trainer.steps=5 >"$runA/learner.log" 2>&1 &
learner=$!
pids+=("$learner")
wait_file "$runA/coordinator.address" 60 || bad "A: the coordinator never wrote its address"
start_worker "$runA" wA1
start_worker "$runA" wA2
# A push without the token: the test binary is seer itself, so use a worker with the token unset.
SEER_TEST_TOKEN= "$seer" rollout --config "$tmp/config.yaml" --coordinator "@$runA/coordinator.address" \
  --worker-id intruder --set cluster.auth_token_env= >"$runA/intruder.log" 2>&1
intruder=$?
timeout 240 tail --pid=$learner -f /dev/null || kill -9 "$learner"  # a stuck learner is a failure, never a hang
wait $learner && ok "A: learner (2 ranks) finished" || { bad "A: learner failed"; tail -20 "$runA/learner.log"; }
[ "$(steps_done "$runA/metrics.jsonl")" -eq 5 ] && ok "A: 5 GRPO steps recorded" || bad "A: steps recorded: $(steps_done "$runA/metrics.jsonl")"
[ $intruder -ne 0 ] && grep -q "bearer token" "$runA/intruder.log" && ok "A: a worker without the token is refused" \
  || { bad "A: the intruder was not refused"; tail -3 "$runA/intruder.log"; }
for w in wA1 wA2; do
  p=$(eval echo \$pid_$w)
  timeout 30 tail --pid=$p -f /dev/null || kill -9 "$p"  # a worker that stays is a failure, never a hang
  wait $p && grep -q "the learner finished training" "$runA/$w.log" && ok "A: $w left when training ended" \
    || { bad "A: $w did not exit cleanly"; tail -5 "$runA/$w.log"; }
done
python3 - "$runA" <<'PY' && ok "A: staleness bound, checksums and pushes as expected" || bad "A: see above"
import json, re, sys, glob
run = sys.argv[1]
fails = []
published = {}
for line in open(f"{run}/learner.log"):
    m = re.search(r"weights v(\d+) published \(checksum ([0-9a-f]+)\)", line)
    if m: published[int(m.group(1))] = int(m.group(2), 16)
metrics = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
for r in metrics:
    published[int(r["weight_version"])] = int(r["weight_checksum"])
    if r.get("groups/checksum_mismatch", 0) != 0: fails.append(f"step {r['step']}: checksum mismatches")
    if r["staleness"] > 1: fails.append(f"step {r['step']}: staleness {r['staleness']}")
    # compute.threads 1: both sides report the count they ran with, and the workers their generation speed
    if r.get("threads/learner") != 1 or r.get("threads/rollout") != 1 or not r.get("rollout/tokens_per_second", 0) > 0:
        fails.append(f"step {r['step']}: thread counts / rollout speed not recorded: {r}")
for line in open(f"{run}/groups.jsonl"):
    s = json.loads(line)
    for g in s["groups"]:
        lag = s["weight_version"] - g["weight_version"]
        if not 0 <= lag <= 1: fails.append(f"step {s['step']}: group {g['id']} lags {lag} versions")
loaded = 0
for log in glob.glob(f"{run}/wA*.log"):
    for line in open(log):
        m = re.search(r"weights v(\d+) loaded: .* checksum ([0-9a-f]+)", line)
        if not m: continue
        loaded += 1
        v, c = int(m.group(1)), int(m.group(2), 16)
        if published.get(v) != c: fails.append(f"{log}: v{v} checksum {c:08x} vs learner {published.get(v)}")
if loaded < 2: fails.append(f"only {loaded} weight syncs logged by the workers")
if len(set(published.values())) < 5: fails.append(f"the weights did not change every step: {published}")
print("\n".join(fails))
sys.exit(1 if fails else 0)
PY

# ---------- B: kill -9 a worker, restart it, stop the reward service for 10 s
runB=$tmp/runB
mkdir -p "$runB"
"$seer" train "$tmp/config.yaml" --set run_dir="$runB" --set trainer.steps=16 >"$runB/learner.log" 2>&1 &
learner=$!
pids+=("$learner")
wait_file "$runB/coordinator.address" 60 || bad "B: the coordinator never wrote its address"
start_worker "$runB" wB1
start_worker "$runB" wB2
wait_steps "$runB/metrics.jsonl" 2 120 || bad "B: no progress before the kill"
kill -9 "$pid_wB1"
wait_steps "$runB/metrics.jsonl" 5 120 || bad "B: no progress after the kill"
start_worker "$runB" wB3
wait_steps "$runB/metrics.jsonl" 7 120 || bad "B: no progress after the restart"
kill -TERM "$reward_pid"
wait "$reward_pid"
outage_start=$(steps_done "$runB/metrics.jsonl")
sleep 10
start_reward
timeout 240 tail --pid=$learner -f /dev/null || kill -9 "$learner"  # a stuck learner is a failure, never a hang
wait $learner && ok "B: learner finished after a worker kill and a reward outage" \
  || { bad "B: learner failed"; tail -20 "$runB/learner.log"; }
grep -q "rollout worker 'wB3' joined" "$runB/learner.log" && grep -q "weights v[0-9]* loaded" "$runB/wB3.log" \
  && ok "B: the restarted worker rejoined" || bad "B: wB3 did not rejoin"
grep -q "reward service .*unavailable" "$runB/wB2.log" "$runB/wB3.log" && ok "B: workers waited for the reward service" \
  || bad "B: no worker noticed the reward outage"
for w in wB2 wB3; do
  p=$(eval echo \$pid_$w)
  timeout 30 tail --pid=$p -f /dev/null || kill -9 "$p"  # a worker that stays is a failure, never a hang
  wait $p && grep -q "the learner finished training" "$runB/$w.log" && ok "B: $w lived through the outage and left at the end" \
    || { bad "B: $w did not exit cleanly"; tail -5 "$runB/$w.log"; }
done
python3 - "$runB" <<'PY' && ok "B: re-leased prompts trained exactly once; no unscorable samples" || bad "B: see above"
import json, re, sys
run = sys.argv[1]
fails = []
reissued = set()
for line in open(f"{run}/learner.log"):
    m = re.search(r"prompt (\d+:\d+) handed out again", line)
    if m: reissued.add(m.group(1))
trained = []
for line in open(f"{run}/groups.jsonl"):
    trained += [g["id"] for g in json.loads(line)["groups"]]
if len(trained) != 16 * 4: fails.append(f"{len(trained)} groups trained, expected 64")
dups = {i for i in trained if trained.count(i) > 1}
if dups: fails.append(f"trained more than once: {sorted(dups)}")
if not reissued: fails.append("no prompt was handed out again after the kill")
missing = sorted(i for i in reissued if i not in trained)
if missing: fails.append(f"re-leased prompts never trained on: {missing}")
for line in open(f"{run}/metrics.jsonl"):
    r = json.loads(line)
    if r.get("status/UNSCORABLE", 0): fails.append(f"step {r['step']}: {r['status/UNSCORABLE']} unscorable samples")
print("\n".join(fails))
sys.exit(1 if fails else 0)
PY
finish
