#!/usr/bin/env bash
# Qwen2-VL end to end on the `tiny-qwen2vl` preset: SFT (`seer train`, trainable tower) then a short GRPO
# `seer run` (reward service, learner, rollout worker) from the SFT checkpoint, then `seer eval`; every
# stage exits 0, the loss falls, and the checkpoints are Hugging Face Qwen2-VL folders. Both training sets
# mix rows with two images and rows with one.
# Usage: qwen2vl_test.sh SEER_BINARY
set -u
seer=$1
tmp=$(mktemp -d)
trap 'pkill -9 -f "$tmp/" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

"$seer" init-model "$tmp/model" --preset tiny-qwen2vl --seed 3 >"$tmp/init.log" 2>&1 \
  && ok "init-model --preset tiny-qwen2vl" || { bad "init-model"; cat "$tmp/init.log"; }
"$seer" data make digits-classify --out "$tmp/data" --train 32 --test 8 >"$tmp/data.log" 2>&1 || { cat "$tmp/data.log"; exit 1; }
grep -q '"model_type": "qwen2_vl"' "$tmp/model/config.json" && ok "config.json is a qwen2_vl config" || bad "config.json"
# Rows with two images (tagged in the question, and untagged) among one-image rows, and one bad row (two tags,
# one image) that is skipped with its line named while the rest trains.
python3 - "$tmp/data" <<'PY'
import json, sys
d = sys.argv[1]
rl = [json.loads(l) for l in open(f"{d}/train.jsonl")]
sft = [json.loads(l) for l in open(f"{d}/sft_train.jsonl")]
with open(f"{d}/train_multi.jsonl", "w") as f:
    for i in range(8):
        a, b = rl[2 * i], rl[2 * i + 1]
        q = "First <image>, second <image>: which digit is in the first?" if i % 2 else "Which digit is in the first image?"
        f.write(json.dumps({"image": [a["image"], b["image"]], "problem": q, "solution": a["solution"]}) + "\n")
        f.write(json.dumps(rl[16 + i]) + "\n")
    f.write(json.dumps({"image": [rl[0]["image"]], "problem": "<image> <image> which?", "solution": "1"}) + "\n")
with open(f"{d}/sft_multi.jsonl", "w") as f:
    for i in range(16):
        a, b = sft[2 * i], sft[2 * i + 1]
        conv = [dict(t) for t in a["conversations"]]
        conv[0]["value"] = "<image>\n" + conv[0]["value"]  # the second image, shown first
        f.write(json.dumps({"image": [b["image"], a["image"]], "conversations": conv}) + "\n")
        f.write(json.dumps(sft[16 + (i % 16)]) + "\n")
PY

cat >"$tmp/sft.yaml" <<YAML
name: qwen2vl-sft
run_dir: $tmp/sft
seed: 5
model:
  path: $tmp/model
  freeze_vision_tower: false
data:
  train: $tmp/data/sft_multi.jsonl
algorithm:
  name: sft
trainer:
  steps: 12
  prompts_per_step: 8
  micro_batch_size: 4
  lr: 3.0e-3
checkpoint:
  every_steps: 12
metrics:
  prometheus: false
YAML
timeout 120 "$seer" train "$tmp/sft.yaml" >"$tmp/sft.out" 2>&1
status=$?
[ $status -eq 0 ] && ok "SFT on tiny-qwen2vl exits 0" || { bad "SFT exit $status"; tail -20 "$tmp/sft.out"; }
python3 - "$tmp/sft/metrics.jsonl" <<'PY' && ok "SFT loss falls" || bad "SFT loss did not fall"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
first, last = rows[0]["sft_loss"], rows[-1]["sft_loss"]
print(f"sft_loss {first:.3f} -> {last:.3f}")
sys.exit(0 if last < 0.8 * first else 1)
PY
sft_model=$(ls -d "$tmp"/sft/checkpoints/step-*/model 2>/dev/null | tail -n 1)
[ -n "$sft_model" ] && [ -s "$sft_model/model.safetensors" ] && ok "SFT checkpoint written" || bad "no SFT checkpoint"

cat >"$tmp/grpo.yaml" <<YAML
name: qwen2vl-grpo
run_dir: $tmp/grpo
seed: 5
model:
  path: $sft_model
data:
  train: $tmp/data/train_multi.jsonl
  on_bad_row: skip
rollout:
  workers: 1
  group_size: 4
  max_new_tokens: 24
  prompts_per_call: 4
  preprocess_threads: 1
algorithm:
  name: grpo
  kl_coef: 0.0
trainer:
  steps: 3
  prompts_per_step: 4
  micro_batch_size: 8
  lr: 1.0e-4
checkpoint:
  every_steps: 3
metrics:
  prometheus: false
YAML
timeout 150 "$seer" run "$tmp/grpo.yaml" >"$tmp/grpo.out" 2>&1
status=$?
[ $status -eq 0 ] && ok "GRPO seer run on tiny-qwen2vl exits 0" || { bad "GRPO exit $status"; tail -20 "$tmp/grpo.out"; }
[ "$(steps_done "$tmp/grpo/metrics.jsonl")" -eq 3 ] && ok "3 GRPO steps recorded" || bad "GRPO steps: $(steps_done "$tmp/grpo/metrics.jsonl")"
grep -q 'train_multi.jsonl:17' "$tmp/grpo.out" "$tmp"/grpo/logs/*.log 2>/dev/null \
  && ok "the row with two tags and one image is skipped, its line named" || bad "bad row not reported by line"
python3 - "$tmp/grpo/groups.jsonl" <<'PY' && ok "two-image and one-image groups trained" || bad "groups.jsonl lacks two-image groups"
import json, sys
counts = [g["images"] for l in open(sys.argv[1]) for g in json.loads(l)["groups"]]
print("images per trained group:", counts)
sys.exit(0 if 2 in counts and 1 in counts else 1)
PY
grpo_model=$(ls -d "$tmp"/grpo/checkpoints/step-*/model 2>/dev/null | tail -n 1)
[ -n "$grpo_model" ] && ok "GRPO checkpoint written" || bad "no GRPO checkpoint"
timeout 60 "$seer" eval --model "${grpo_model:-$sft_model}" --data "$tmp/data/test.jsonl" --json "$tmp/eval.json" >"$tmp/eval.out" 2>&1 \
  && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["overall"]["rows"] == 8 else 1)' "$tmp/eval.json" \
  && ok "seer eval scores all 8 test rows" || { bad "seer eval"; tail -10 "$tmp/eval.out"; }
finish
