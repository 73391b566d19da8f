#!/usr/bin/env bash
# Builds one libFuzzer target (clang, AddressSanitizer + UndefinedBehaviorSanitizer) and runs it for SECONDS
# on one core, seeded from the project's test data; prints libFuzzer's final stats (executions, coverage).
# Targets: reward (scorers, seeded with ../shared/cases/rewards.jsonl), image (JPEG/PNG/BMP/GIF + EXIF,
# seeded with ../shared/cases/images and the golden images). A crash leaves crash-* in OUT_DIR: add it as a
# regression test.
# Usage: scripts/fuzz.sh TARGET [SECONDS] [OUT_DIR]   (default 600 s, build-fuzz/TARGET)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh reward|image [SECONDS] [OUT_DIR]}
seconds=${2:-600}
out=${3:-build-fuzz/$target}
command -v clang++ >/dev/null || { echo "fuzz: needs clang++ (apt-get install clang)" >&2; exit 1; }
shared=${SEER_SHARED_DIR:-../shared}
mkdir -p "$out/corpus"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I .)
case "$target" in
  reward)
    exec scripts/fuzz-reward.sh "$seconds" "$out" ;;
  image)
    clang++ "${flags[@]}" -I /usr/include/stb model/image_decode.cpp model/jpeg_decode.cpp core/atomic_file.cpp \
      tests/fuzz/image_fuzz.cpp -ljpeg -lexif -lstb -lfmt -o "$out/image_fuzz"
    i=0
    for f in "$shared"/cases/images/* "$shared"/golden/image-preprocessing/*.{png,jpg}; do
      [ -f "$f" ] || continue
      { printf '\x00'; head -c 200000 "$f"; } >"$out/corpus/seed$((i++))"
    done
    max_len=200000 ;;
  *) echo "fuzz: unknown target '$target' (reward, image)" >&2; exit 1 ;;
esac
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
  "$out/${target}_fuzz" "$out/corpus" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=4096 \
  -print_final_stats=1 2>&1 | tail -n 25
