#!/usr/bin/env bash
# LoRA end to end (issue 19): a GRPO `seer run` of the tiny VLM with `model.lora` trains (the loss changes and
# the adapters move), syncs only adapter tensors to the rollout worker (the bytes per sync are the adapters'),
# checkpoints a PEFT adapter folder without the base weights, resumes from it, and `seer export --merge` writes
# a full checkpoint whose greedy answers equal the adapter checkpoint's on every eval row; SFT with LoRA learns.
# Usage: lora_test.sh SEER_BINARY
set -u
seer=$1
tmp=$(mktemp -d)
trap 'pkill -9 -f "$tmp/" 2>/dev/null; [ -n "${SEER_KEEP_TMP:-}" ] && echo "kept $tmp" || rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

tiny_fixture "$seer" "$tmp" digits-classify 64 16
cat >"$tmp/config.yaml" <<YAML
name: lora-test
run_dir: $tmp/run
seed: 5
model:
  path: $tmp/model
  lora: {rank: 4, alpha: 16, target_modules: [q_proj, v_proj, gate_proj, linear_1]}
data:
  train: $tmp/data/train.jsonl
  eval: $tmp/data/test.jsonl
rollout:
  workers: 1
  group_size: 4
  max_new_tokens: 12
  prompts_per_call: 4
  preprocess_threads: 1
algorithm:
  name: grpo
  kl_coef: 0.05
  kl_estimator: k1   # a gradient even when every reward is equal: the adapters move every step
trainer:
  steps: 4
  prompts_per_step: 4
  micro_batch_size: 8
  lr: 5.0e-3
checkpoint:
  every_steps: 2
  keep_last: 2
compute:
  threads: 1
metrics:
  prometheus: false
YAML

timeout 200 "$seer" run "$tmp/config.yaml" >"$tmp/run.out" 2>&1
status=$?
[ $status -eq 0 ] && ok "seer run with LoRA exits 0" || { bad "seer run exit $status"; tail -20 "$tmp/run.out"; }
[ "$(steps_done "$tmp/run/metrics.jsonl")" -eq 4 ] && ok "4 GRPO steps recorded" || bad "steps: $(steps_done "$tmp/run/metrics.jsonl")"
grep -q "LoRA: rank 4" "$tmp/run/logs/learner.log" && ok "the learner added the adapters" || bad "no LoRA line in the learner log"
ckpt=$(ls -d "$tmp"/run/checkpoints/step-*/model | tail -n 1)
[ -s "$ckpt/adapter_model.safetensors" ] && [ -s "$ckpt/adapter_config.json" ] && [ ! -e "$ckpt/model.safetensors" ] \
  && ok "the checkpoint is a PEFT adapter folder without the base weights" || { bad "checkpoint: $(ls "$ckpt")"; }
python3 - "$tmp" "$ckpt" <<'PY' && ok "loss and adapters changed; only adapter tensors were synced, their bytes reported" || bad "see above"
import json, os, re, struct, sys
tmp, ckpt = sys.argv[1], sys.argv[2]
fails = []
metrics = [json.loads(l) for l in open(f"{tmp}/run/metrics.jsonl")]
losses = [m["loss"] for m in metrics]
if len(set(round(l, 9) for l in losses)) < 2: fails.append(f"the loss never changed: {losses}")
def header(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return {k: v for k, v in json.loads(f.read(n)).items() if k != "__metadata__"}
adapter = header(f"{ckpt}/adapter_model.safetensors")
if not adapter or not all(k.startswith("base_model.model.") and (".lora_A." in k or ".lora_B." in k) for k in adapter):
    fails.append(f"adapter tensor names not PEFT's: {list(adapter)[:3]}")
adapter_bytes = sum(v["data_offsets"][1] - v["data_offsets"][0] for v in adapter.values())
base_bytes = sum(v["data_offsets"][1] - v["data_offsets"][0] for v in header(f"{tmp}/model/model.safetensors").values())
cfg = json.load(open(f"{ckpt}/adapter_config.json"))
if cfg.get("r") != 4 or cfg.get("peft_type") != "LORA" or not os.path.isdir(cfg.get("base_model_name_or_path", "")):
    fails.append(f"adapter_config.json: {cfg}")
syncs = []
for line in open(f"{tmp}/run/logs/rollout-0.log"):
    m = re.search(r"weights v(\d+) loaded: (\d+) tensors, ([0-9.]+) MB", line)
    if m: syncs.append((int(m.group(2)), float(m.group(3)) * 1e6))
if len(syncs) < 2: fails.append(f"only {len(syncs)} weight syncs logged")
for tensors, nbytes in syncs:
    if tensors != len(adapter): fails.append(f"a sync sent {tensors} tensors, the adapters are {len(adapter)}")
    if abs(nbytes - adapter_bytes) > 0.001e6: fails.append(f"a sync sent {nbytes:.0f} bytes, the adapters are {adapter_bytes}")
print(f"adapters {len(adapter)} tensors {adapter_bytes} bytes vs base {base_bytes} bytes; syncs {syncs[:2]}")
if adapter_bytes * 5 > base_bytes: fails.append("the adapters are not much smaller than the base")
print("\n".join(fails))
sys.exit(1 if fails else 0)
PY

# Resume from the adapter checkpoint: two more steps.
timeout 200 "$seer" run "$tmp/config.yaml" --resume --set trainer.steps=6 >"$tmp/resume.out" 2>&1
status=$?
[ $status -eq 0 ] && [ "$(steps_done "$tmp/run/metrics.jsonl")" -eq 6 ] && ok "resumed from the adapter checkpoint to step 6" \
  || { bad "resume: exit $status, steps $(steps_done "$tmp/run/metrics.jsonl")"; tail -20 "$tmp/resume.out"; }

# Merged export: a full HF folder; greedy answers equal the adapter checkpoint's.
ckpt=$(ls -d "$tmp"/run/checkpoints/step-*/model | tail -n 1)
"$seer" export --merge "$ckpt" "$tmp/merged" >"$tmp/export.out" 2>&1 && [ -s "$tmp/merged/model.safetensors" ] \
  && [ -s "$tmp/merged/tokenizer.json" ] && [ ! -e "$tmp/merged/adapter_config.json" ] \
  && ok "seer export --merge writes a full checkpoint" || { bad "export failed"; cat "$tmp/export.out"; }
"$seer" export --merge "$ckpt" "$tmp/merged" >"$tmp/export2.out" 2>&1 && bad "export over an existing folder was not refused" \
  || { grep -q "exists" "$tmp/export2.out" && ok "export refuses to overwrite without --overwrite" || bad "unclear refusal: $(cat "$tmp/export2.out")"; }
"$seer" eval --config "$tmp/config.yaml" --model "$ckpt" --json "$tmp/eval-adapter.json" >/dev/null 2>&1
"$seer" eval --config "$tmp/config.yaml" --set model.lora.rank=0 --model "$tmp/merged" --json "$tmp/eval-merged.json" >/dev/null 2>&1
python3 - "$tmp" <<'PY' && ok "the merged checkpoint answers every eval row as the adapter checkpoint does" || bad "see above"
import json, sys
tmp = sys.argv[1]
a, m = (json.load(open(f"{tmp}/eval-{n}.json")) for n in ("adapter", "merged"))
ra, rm = a.get("samples", []), m.get("samples", [])
if not ra or len(ra) != len(rm): print(f"rows: {len(ra)} vs {len(rm)}"); sys.exit(1)
diff = [(x.get("id"), x.get("completion"), y.get("completion")) for x, y in zip(ra, rm) if x.get("completion") != y.get("completion")]
print(f"{len(ra)} rows, {len(diff)} differ" + (f": {diff[:2]}" if diff else ""))
sys.exit(1 if diff else 0)
PY
# SFT with LoRA: the loss falls and the checkpoint is an adapter folder (base weights frozen: lora_test.cpp).
"$seer" train "$tmp/config.yaml" --set algorithm.name=sft --set data.train="$tmp/data/sft_train.jsonl" \
  --set run_dir="$tmp/sft" --set trainer.steps=30 --set trainer.lr=1e-2 --set trainer.micro_batch_size=4 \
  --set checkpoint.every_steps=0 --set metrics.log_every_steps=1 >"$tmp/sft.out" 2>&1
status=$?
python3 - "$tmp" <<'PY' && ok "SFT with LoRA: the loss falls and the checkpoint is an adapter folder" || { bad "SFT with LoRA (exit $status)"; tail -5 "$tmp/sft.out"; }
import glob, json, sys
tmp = sys.argv[1]
losses = [json.loads(l)["sft_loss"] for l in open(f"{tmp}/sft/metrics.jsonl")]
first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
ckpt = sorted(glob.glob(f"{tmp}/sft/checkpoints/step-*/model"))[-1]
print(f"SFT loss {first:.3f} -> {last:.3f}; checkpoint {sorted(p.split('/')[-1] for p in glob.glob(ckpt + '/*'))}")
ok = last < 0.9 * first and glob.glob(ckpt + "/adapter_model.safetensors") and not glob.glob(ckpt + "/model.safetensors")
sys.exit(0 if ok else 1)
PY
finish
