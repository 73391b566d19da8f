#!/usr/bin/env bash
# deploy/slurm/seer.sbatch on a single-node Slurm started here on 127.0.0.1 (Debian's slurm-wlm and munge,
# private ports and state folders): 2 learner ranks via `srun --mpi=pmix`, 2 rollout workers and the reward
# service as job steps; the job finishes its steps and exits 0. When this machine cannot start the daemons
# (no root, no munge key), the test says why and is skipped (exit 77), never silently passed.
# Usage: slurm_test.sh SEER_BINARY
set -u
. "$(dirname "$0")/lib.sh"
seer=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
skip() { echo "SKIP: $1"; exit 77; }
cleanup() {
  [ -f "$tmp/slurmctld.pid" ] && kill "$(cat "$tmp/slurmctld.pid")" 2>/dev/null
  [ -f "$tmp/slurmd.pid" ] && kill "$(cat "$tmp/slurmd.pid")" 2>/dev/null
  pkill -9 -f "$tmp/" 2>/dev/null
  sleep 0.5
  rm -rf "$tmp"
}
trap cleanup EXIT
for b in slurmctld slurmd sbatch srun munged munge; do
  command -v $b >/dev/null || [ -x /usr/sbin/$b ] || { echo "FAIL: $b is not installed (scripts/install-deps.sh installs slurm-wlm and munge)"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to start job steps; this test runs as $(id -un)"
[ -r /etc/munge/munge.key ] || skip "no /etc/munge/munge.key (the munge package creates it)"
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null
  /usr/sbin/munged --force >/dev/null 2>&1 || true
  sleep 0.5
  munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || skip "munged does not start here"
fi
host=$(hostname -s)
mkdir -p "$tmp/state" "$tmp/spool"
cat >"$tmp/slurm.conf" <<CONF
ClusterName=seertest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SlurmUser=root
SlurmdUser=root
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=1024 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:8
CONF
export SLURM_CONF=$tmp/slurm.conf
/usr/sbin/slurmctld -f "$SLURM_CONF" >/dev/null 2>&1 || skip "slurmctld does not start here: $(tail -2 "$tmp/slurmctld.log" 2>/dev/null)"
/usr/sbin/slurmd -f "$SLURM_CONF" >/dev/null 2>&1 || skip "slurmd does not start here: $(tail -2 "$tmp/slurmd.log" 2>/dev/null)"
for _ in $(seq 100); do sinfo -h -o %t 2>/dev/null | grep -q idle && break; sleep 0.2; done
sinfo -h -o %t 2>/dev/null | grep -q idle || skip "the Slurm node never became idle: $(tail -2 "$tmp/slurmd.log")"

tiny_fixture "$seer" "$tmp" digits-count 32 8
cat >"$tmp/config.yaml" <<YAML
name: slurm-test
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
OMP_WAIT_POLICY=PASSIVE timeout 240 sbatch --wait --nodes=1 --output="$tmp/job-%j.out" \
  --export=ALL,SEER="$seer",RANKS_PER_NODE=2,WORKERS_PER_NODE=2 "$here/../../deploy/slurm/seer.sbatch" "$tmp/config.yaml" \
  >"$tmp/sbatch.out" 2>&1
status=$?
failed=0
if [ $status -eq 0 ] && [ "$(wc -l <"$tmp/run/metrics.jsonl" 2>/dev/null)" = 4 ] && grep -q "\[learner 1/2\]" "$tmp/run/logs/learner.log"; then
  echo "ok: seer.sbatch ran 4 GRPO steps with 2 learner ranks under srun --mpi=pmix"
else
  echo "FAIL: sbatch exit $status"; cat "$tmp/sbatch.out" "$tmp"/job-*.out; tail -5 "$tmp/run/logs/learner.log" 2>/dev/null; failed=1
fi
if [ "$(grep -c "the learner finished training; worker" "$tmp/run/logs/rollout.log" 2>/dev/null)" = 2 ]; then
  echo "ok: both rollout workers (a job step) ran and left at the end"
else
  echo "FAIL: rollout workers"; tail -5 "$tmp/run/logs/rollout.log" 2>/dev/null; failed=1
fi
exit $failed
