# Shared by the e2e test scripts (`. "$(dirname "$0")/lib.sh"` after `set -u`): pass/fail counting, free
# ports, waiting for files, and the tiny model + digits data most tests start from. Each script keeps its own
# EXIT trap (what it must kill differs); SEER_KEEP_TMP=1 keeps the temp folder of scripts that honour it.
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
bad() { failed=$((failed + 1)); echo "FAIL: $1"; }
# Prints the counts; the exit status is 0 only when nothing failed.
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; }

# A TCP port free on 127.0.0.1 right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# wait_file FILE SECONDS: waits until FILE exists and is not empty.
wait_file() { for _ in $(seq $(($2 * 20))); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }
# steps_done METRICS_JSONL: lines (learner steps) recorded so far, 0 when the file is not there yet.
steps_done() { [ -f "$1" ] && wc -l <"$1" || echo 0; }

# tiny_fixture SEER DIR TASK TRAIN TEST: DIR/model (`tiny` preset, seed 3) and DIR/data (TASK rows; the digits
# tasks need the file scripts/install-deps.sh installs). Exits the script when either cannot be made.
tiny_fixture() {
  "$1" init-model "$2/model" --preset tiny --seed 3 >"$2/fixture.log" 2>&1 || { echo "init-model failed"; cat "$2/fixture.log"; exit 1; }
  "$1" data make "$3" --out "$2/data" --train "$4" --test "$5" >"$2/fixture.log" 2>&1 || { echo "data make $3 failed"; cat "$2/fixture.log"; exit 1; }
}
