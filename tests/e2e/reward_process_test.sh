#!/usr/bin/env bash
# `seer reward` as a process: binds 127.0.0.1 on a free port, serves /metrics, refuses to start with a
# configured but missing token, and stops cleanly (exit 0) on SIGTERM.
# Usage: reward_process_test.sh SEER_BINARY
set -u
seer=$1
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

"$seer" reward --port-file "$tmp/port" >"$tmp/log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
address=$(cat "$tmp/port" 2>/dev/null)
case "$address" in 127.0.0.1:[0-9]*) ok "listens on loopback ($address)";; *) bad "port file: '$address'"; cat "$tmp/log";; esac
metrics=$(sed -n 's|.*metrics on \(http://[^ ]*\).*|\1|p' "$tmp/log" | head -1)
if [ -n "$metrics" ] && curl -sf "$metrics" | grep -q "^# TYPE seer_reward_request_seconds histogram"; then
  ok "serves /metrics"; else bad "serves /metrics ($metrics)"; cat "$tmp/log"; fi
kill -TERM "$pid"
wait "$pid"
status=$?
pid=""
if [ $status -eq 0 ] && grep -q "stopped" "$tmp/log"; then ok "SIGTERM stops cleanly"
else bad "SIGTERM stops cleanly (exit $status)"; cat "$tmp/log"; fi

env -u SEER_TEST_TOKEN "$seer" reward --set reward.auth_token_env=SEER_TEST_TOKEN >"$tmp/log2" 2>&1
status=$?
if [ $status -ne 0 ] && grep -q "SEER_TEST_TOKEN" "$tmp/log2"; then ok "missing token refuses to start"
else bad "missing token refuses to start (exit $status)"; cat "$tmp/log2"; fi

finish
