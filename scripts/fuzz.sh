#!/usr/bin/env bash
# Builds one libFuzzer target (clang, AddressSanitizer + UndefinedBehaviorSanitizer) and runs it for SECONDS
# on one core, seeded from the project's test data; prints libFuzzer's final stats (executions, coverage).
# Targets: reward (scorers, seeded with ../shared/cases/rewards.jsonl), image (JPEG/PNG/BMP/GIF + EXIF,
# seeded with ../shared/cases/images and the golden images), config (YAML config + --set overrides, seeded with
# configs/), jsonl (dataset rows, seeded with dataset lines), tokenizer (tokenizer.json, seeded with the golden
# tokenizers cut small), safetensors (a .safetensors file or an index.json beside a shard), proto (the gRPC
# messages: reward ScoreRequest, coordinator Group and GetPromptsRequest, through their handlers). A crash
# leaves crash-* in OUT_DIR: add it as a
# regression test.
# Usage: scripts/fuzz.sh TARGET [SECONDS] [OUT_DIR]   (default 600 s, build-fuzz/TARGET)
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh reward|image|config|jsonl|tokenizer|safetensors|proto [SECONDS] [OUT_DIR]}
seconds=${2:-600}
out=${3:-build-fuzz/$target}
command -v clang++ >/dev/null || { echo "fuzz: needs clang++ (apt-get install clang)" >&2; exit 1; }
shared=${SEER_SHARED_DIR:-../shared}
mkdir -p "$out/corpus"
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I .)
torch_flags=("${flags[@]/-std=c++20/-std=c++17}" -D_GLIBCXX_USE_CXX11_ABI=1)  # LibTorch 1.13's headers: C++17
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
  tokenizer)
    clang++ "${flags[@]}" model/tokenizer.cpp core/atomic_file.cpp tests/fuzz/tokenizer_fuzz.cpp \
      -lpcre2-8 -lutf8proc -lfmt -o "$out/tokenizer_fuzz"
    # Seeds: the golden tokenizers cut to their first 400 ids (and the merges among them), so every model
    # family's normalizer, pre-tokenizer, post-processor and decoder is in the corpus at a fuzzable size.
    python3 - "$shared/golden/tokenizers" "$out/corpus" <<'PY'
import json, os, sys
root, out = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
    path = os.path.join(root, name, "tokenizer.json")
    if not os.path.isfile(path):
        continue
    t = json.load(open(path, encoding="utf-8"))
    m = t.get("model", {})
    if isinstance(m.get("vocab"), dict):
        m["vocab"] = {k: v for k, v in m["vocab"].items() if v < 400}
        keep = set(m["vocab"])
        merges = []
        for mg in m.get("merges", []):
            a, b = mg.split(" ", 1) if isinstance(mg, str) else mg
            if a in keep and b in keep and a + b in keep:
                merges.append(mg)
        m["merges"] = merges
    t["added_tokens"] = [a for a in t.get("added_tokens", [])][:8]
    open(os.path.join(out, "seed-" + name), "w", encoding="utf-8").write(json.dumps(t))
PY
    max_len=200000 ;;
  safetensors)
    clang++ "${torch_flags[@]}" model/safetensors.cpp core/atomic_file.cpp core/progress.cpp tests/fuzz/safetensors_fuzz.cpp \
      -ltorch -ltorch_cpu -lc10 -lfmt -o "$out/safetensors_fuzz"
    python3 - "$out/corpus" <<'PY'
import json, struct, sys, os
out = sys.argv[1]
def st(tensors):
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data
seeds = {
  "file-f32": b"\x00" + st({"a": ("F32", [2, 3], struct.pack("<6f", *range(6)))}),
  "file-mixed": b"\x00" + st({"w": ("BF16", [4], b"\x80\x3f" * 4), "i": ("I64", [2], struct.pack("<2q", 1, 2)),
                             "m": ("BOOL", [3], b"\x01\x00\x01"), "e": ("F16", [0], b"")}),
  "index": b"\x01" + json.dumps({"metadata": {"total_size": 56},
                                  "weight_map": {"a": "model-00001-of-00001.safetensors",
                                                 "b": "model-00001-of-00001.safetensors"}}).encode(),
}
for name, blob in seeds.items():
    open(os.path.join(out, name), "wb").write(blob)
PY
    max_len=20000 ;;
  proto)
    mkdir -p "$out/gen"
    protoc -I . --cpp_out="$out/gen" proto/reward.proto proto/coordinator.proto
    reward_srcs=(reward/bbox.cpp reward/choice.cpp reward/extract.cpp reward/format.cpp reward/math_answer.cpp
                 reward/math_expr.cpp reward/numeric.cpp reward/scorer.cpp reward/text_match.cpp reward/types.cpp
                 reward/unicode.cpp reward/proto_convert.cpp)
    clang++ "${torch_flags[@]}" -I "$out/gen" "${reward_srcs[@]}" trainer/group_proto.cpp trainer/prompt_ledger.cpp \
      trainer/data_order.cpp "$out/gen/proto/reward.pb.cc" "$out/gen/proto/coordinator.pb.cc" tests/fuzz/proto_fuzz.cpp \
      -lprotobuf -ltorch -ltorch_cpu -lc10 -lutf8proc -lfmt -o "$out/proto_fuzz"
    # Seeds: well-formed messages of each kind, from the text format through protoc.
    printf 'samples { id: "0" completion: "<think>t</think><answer>\\\\frac{1}{2}</answer>" gold: "0.5" answer_type: ANSWER_TYPE_MATH } samples { id: "1" completion: "<answer>[1, 2, 30, 40]</answer>" gold: "[0, 0, 32, 48]" answer_type: ANSWER_TYPE_BBOX original_image { width_pixels: 64 height_pixels: 48 } }\n' |
      protoc -I . --encode=seer.reward.v1.ScoreRequest proto/reward.proto | { printf '\x00'; cat; } >"$out/corpus/score"
    printf 'group_id: "0:3" worker_id: "w-1" weight_version: 2 prompt_ids: [1, 2, 3] trajectories { response_ids: [4, 5] logprobs: [-0.5, -1.5] scored: true reward: 1 status: "OK" answer: "4" }\n' |
      protoc -I . --encode=seer.coordinator.v1.Group proto/coordinator.proto | { printf '\x01'; cat; } >"$out/corpus/group"
    printf 'worker_id: "w-2" max_prompts: 4 weight_version: 1 image_inputs: "clip 32"\n' |
      protoc -I . --encode=seer.coordinator.v1.GetPromptsRequest proto/coordinator.proto | { printf '\x02'; cat; } >"$out/corpus/get"
    max_len=20000 ;;
  *) echo "fuzz: unknown target '$target' (reward, image, config, jsonl, tokenizer, safetensors, proto)" >&2; exit 1 ;;
esac
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ASAN_OPTIONS=detect_leaks=1 \
  "$out/${target}_fuzz" "$out/corpus" -artifact_prefix="$out/" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=4096 \
  -print_final_stats=1 2>&1 | tail -n 25
