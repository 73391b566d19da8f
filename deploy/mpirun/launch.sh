#!/usr/bin/env bash
# Launch a seer GRPO run on several hosts with OpenMPI's mpirun (one mpirun per role):
#   deploy/mpirun/launch.sh --config C.yaml --hostfile hosts --learner-ranks-per-node 2 \
#       --rollout-hosts node3,node4 --workers-per-host 2 --reward-host node3 [--seer /path/to/seer] [--no-preflight] \
#       [-- extra mpirun args]
# The learner ranks go on the hostfile's hosts (ranks-per-node each), the reward service on --reward-host, and
# --workers-per-host rollout workers on every --rollout-hosts host. The run folder must be on a shared
# filesystem (the address files are exchanged through it). Exits with the learner's status; stops the
# reward service and any worker left when the learner ends. Resubmitting continues from the newest
# checkpoint (checkpoint.resume: auto). Learner rank 0 runs the preflight (`seer check`'s model, data and
# folder checks) on its host before anything trains; a failure is printed here. --no-preflight skips it.
set -euo pipefail

config="" hostfile="" per_node=1 rollout_hosts="" workers_per_host=1 reward_host="" seer=seer extra=() train_flags=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --hostfile) hostfile=$2; shift 2 ;;
    --learner-ranks-per-node) per_node=$2; shift 2 ;;
    --rollout-hosts) rollout_hosts=$2; shift 2 ;;
    --workers-per-host) workers_per_host=$2; shift 2 ;;
    --reward-host) reward_host=$2; shift 2 ;;
    --seer) seer=$2; shift 2 ;;
    --no-preflight) train_flags+=(--no-preflight); shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "launch.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$config" && -n "$hostfile" && -n "$rollout_hosts" ]] || { echo "launch.sh: --config, --hostfile and --rollout-hosts are required" >&2; exit 2; }
[[ -f "$config" ]] || { echo "launch.sh: no config file '$config'" >&2; exit 2; }
reward_host=${reward_host:-${rollout_hosts%%,*}}

run_dir=$("$seer" config show "$config" | awk '/^run_dir:/ {print $2}' | tr -d '"')
name=$("$seer" config show "$config" | awk '/^name:/ {print $2}' | tr -d '"')
run_dir=${run_dir:-runs/$name}
mkdir -p "$run_dir/logs"
rm -f "$run_dir/reward.address" "$run_dir/coordinator.address"
nodes=$(grep -cv '^\s*\(#\|$\)' "$hostfile")
ranks=$((nodes * per_node))
n_rollout_hosts=$(awk -F, '{print NF}' <<<"$rollout_hosts")
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'echo "launch.sh: stopping (the learner checkpoints after its current step)"; kill -TERM "$learner" 2>/dev/null' INT TERM

mpirun -np 1 --host "$reward_host" "${extra[@]}" "$seer" reward --config "$config" \
  --port-file "$run_dir/reward.address" >>"$run_dir/logs/reward.log" 2>&1 &
pids+=($!)
mpirun -np "$ranks" --hostfile "$hostfile" --map-by "ppr:$per_node:node" "${extra[@]}" \
  "$seer" train "$config" --processes-on-host "$((per_node + workers_per_host))" "${train_flags[@]}" \
  >>"$run_dir/logs/learner.log" 2>&1 &
learner=$!
for _ in $(seq 600); do
  [[ -s "$run_dir/coordinator.address" && -s "$run_dir/reward.address" ]] && break
  kill -0 "$learner" 2>/dev/null || break  # the learner failed to start: its log says why
  sleep 1
done
if [[ ! -s "$run_dir/coordinator.address" ]]; then
  echo "launch.sh: the learner did not start its coordinator; from $run_dir/logs/learner.log:" >&2
  grep -E '^(error|warning): |\[(error|critical)\]|preflight' "$run_dir/logs/learner.log" | tail -n 20 >&2 || tail -n 5 "$run_dir/logs/learner.log" >&2
  exit 1
fi
# Each worker: id host-pid (default), metrics port offset from its local rank.
mpirun -np "$((n_rollout_hosts * workers_per_host))" --host "$(sed "s/\(,\|$\)/:$workers_per_host\1/g" <<<"$rollout_hosts")" \
  --map-by "ppr:$workers_per_host:node" "${extra[@]}" \
  sh -c 'exec "$0" rollout --config "$1" --coordinator "@$2/coordinator.address" --reward "@$2/reward.address" \
         --worker-index "${OMPI_COMM_WORLD_LOCAL_RANK:-0}" --processes-on-host "$3" --workers-on-host "$4"' \
  "$seer" "$config" "$run_dir" "$((per_node + workers_per_host))" "$workers_per_host" >>"$run_dir/logs/rollout.log" 2>&1 &
pids+=($!)
echo "launch.sh: $ranks learner rank(s), $((n_rollout_hosts * workers_per_host)) rollout worker(s), reward service on $reward_host; logs in $run_dir/logs"
status=0
wait "$learner" || status=$?
# A trapped signal interrupts `wait`: keep waiting until the learner has written its checkpoint and exited.
while kill -0 "$learner" 2>/dev/null; do wait "$learner" && status=0 || status=$?; done
echo "launch.sh: learner exited with status $status"
exit "$status"
