#!/usr/bin/env bash
# Runs every libFuzzer target of scripts/fuzz.sh for SECONDS each (one core per target, JOBS targets at a time,
# default: the number of cores) and prints, per target: CPU seconds, executions, executions/s, corpus size and
# crashes (crash-*/leak-*/timeout-* files left in build-fuzz/TARGET; each one is a regression test to write).
# Exit status 1 when a target crashed or failed to build. Not part of CI (10 CPU-minutes per target is the bar).
# Usage: scripts/fuzz-all.sh [SECONDS] [JOBS]   (default 600 s, nproc)
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
jobs=${2:-$(nproc)}
targets=(reward image config jsonl tokenizer safetensors proto)
mkdir -p build-fuzz
run_one() {
  local t=$1 out=build-fuzz/$1
  local start=$SECONDS
  if [ "$t" = reward ]; then
    scripts/fuzz-reward.sh "$seconds" "$out" >"build-fuzz/$t.log" 2>&1
  else
    scripts/fuzz.sh "$t" "$seconds" "$out" >"build-fuzz/$t.log" 2>&1
  fi
  echo $? >"build-fuzz/$t.status"
}
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait
bad=0
printf '%-12s %8s %12s %10s %8s %8s\n' target seconds executions exec/s corpus crashes
for t in "${targets[@]}"; do
  log=build-fuzz/$t.log
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  corpus=$(ls "build-fuzz/$t/corpus" 2>/dev/null | wc -l)
  crashes=$(ls build-fuzz/"$t"/crash-* build-fuzz/"$t"/leak-* build-fuzz/"$t"/timeout-* ./crash-* 2>/dev/null | wc -l)
  status=$(cat "build-fuzz/$t.status" 2>/dev/null || echo 1)
  [ "$status" = 0 ] && [ "$crashes" = 0 ] && [ -n "$execs" ] && [ "$execs" != 0 ] || bad=1
  printf '%-12s %8s %12s %10s %8s %8s%s\n' "$t" "$seconds" "${execs:-0}" "${rate:-0}" "$corpus" "$crashes" \
    "$([ "$status" = 0 ] || echo "  (status $status: see $log)")"
done
exit $bad
