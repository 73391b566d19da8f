#!/usr/bin/env bash
# Builds the reward fuzz target with clang (libFuzzer + AddressSanitizer + UndefinedBehaviorSanitizer)
# and runs it for SECONDS (default 600) on one core, seeded with the field-report cases.
# Usage: scripts/fuzz-reward.sh [SECONDS] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
out=${2:-build-fuzz}
command -v clang++ >/dev/null || { echo "fuzz-reward: needs clang++ (apt-get install clang)" >&2; exit 1; }
mkdir -p "$out/corpus"
srcs=(reward/bbox.cpp reward/choice.cpp reward/extract.cpp reward/format.cpp reward/math_answer.cpp reward/math_expr.cpp
      reward/numeric.cpp reward/scorer.cpp reward/text_match.cpp reward/types.cpp reward/unicode.cpp)
clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I . "${srcs[@]}" tests/fuzz/reward_fuzz.cpp -lutf8proc -o "$out/reward_fuzz"
# Seed corpus: completions and golds of the field-report cases.
cases=${SEER_CASES_DIR:-../shared/cases}/rewards.jsonl
if [ -f "$cases" ] && command -v python3 >/dev/null; then
  python3 - "$cases" "$out/corpus" <<'PY'
import json, sys, os
for i, line in enumerate(open(sys.argv[1], encoding="utf-8")):
    d = json.loads(line)
    blob = bytes([i % 6, 40]) + d["completion"].encode()[:4000] + b"\xff" + d["gold"].encode()
    open(os.path.join(sys.argv[2], "case%03d" % i), "wb").write(blob)
PY
fi
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
  "$out/reward_fuzz" "$out/corpus" -artifact_prefix="$out/" -max_total_time="$seconds" -max_len=20000 -timeout=5 -rss_limit_mb=4096 \
  -print_final_stats=1 2>&1 | tail -n 25
