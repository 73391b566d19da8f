#!/usr/bin/env bash
# Builds one libFuzzer target (clang, AddressSanitizer + UndefinedBehaviorSanitizer) and runs it for SECONDS
# on one core, seeded from the project's test data; prints libFuzzer's final stats (executions, coverage).
# Targets: reward (scorers, seeded with ../shared/cases/rewards.jsonl), image (JPEG/PNG/BMP/GIF + EXIF,
# seeded with ../shared/cases/images and the golden images), config (YAML config + --set overrides, seeded with
# configs/), jsonl (dataset rows, seeded with dataset lines). A crash leaves crash-* in OUT_DIR: add it as a
# regression test.
# Usage: scripts/fuzz.sh TARGET [SECONDS] [OUT_DIR]   (default 600 s, build-fuzz/TARGET)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh reward|image|config|jsonl [SECONDS] [OUT_DIR]}
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
  config)
    clang++ "${flags[@]}" -I build/generated core/config_fields.cpp core/config_load.cpp core/config_schema.cpp \
      core/config_validate.cpp core/did_you_mean.cpp core/gpu_choice.cpp core/atomic_file.cpp tests/fuzz/config_fuzz.cpp \
      -lyaml-cpp -lfmt -o "$out/config_fuzz"
    i=0
    for f in configs/*.yaml; do cp "$f" "$out/corpus/seed$((i++))"; done
    max_len=20000 ;;
  jsonl)
    clang++ "${flags[@]}" dataset/jsonl_reader.cpp dataset/image_path.cpp core/atomic_file.cpp \
      tests/fuzz/jsonl_fuzz.cpp -lfmt -o "$out/jsonl_fuzz"
    i=0
    for f in "$shared"/golden/../cases/images.jsonl data/digits-classify/train.jsonl data/digits-classify/sft_train.jsonl; do
      [ -f "$f" ] && head -n 20 "$f" | while IFS= read -r line; do printf '%s' "$line" >"$out/corpus/seed$((i++))_$RANDOM"; done
    done
    max_len=20000 ;;
  *) echo "fuzz: unknown target '$target' (reward, image, config, jsonl)" >&2; exit 1 ;;
esac
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
  "$out/${target}_fuzz" "$out/corpus" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=4096 \
  -print_final_stats=1 2>&1 | tail -n 25
