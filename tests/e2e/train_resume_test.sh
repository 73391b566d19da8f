#!/usr/bin/env bash
# `seer train` kill-and-resume: 6 SFT steps straight vs 6 steps killed with SIGKILL after step 3 and
# resumed (`checkpoint.resume: auto`, the default) give identical per-step losses and a bit-identical
# final model; a truncated checkpoint is detected on resume, which falls back to the previous one;
# SIGTERM stops after the current step with a checkpoint.
# Usage: train_resume_test.sh SEER_BINARY
set -u
seer=$1
tmp=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

tiny_fixture "$seer" "$tmp" digits-classify 48 8
cat >"$tmp/config.yaml" <<YAML
name: resume-test
seed: 5
model:
  path: $tmp/model
  freeze_vision_tower: false
data:
  train: $tmp/data/sft_train.jsonl
algorithm:
  name: sft
trainer:
  steps: 6
  prompts_per_step: 4
  micro_batch_size: 2
  lr: 3.0e-3
  lr_schedule: cosine
  warmup_steps: 2
checkpoint:
  every_steps: 1
  keep_last: 2
metrics:
  prometheus: false
YAML

# Last recorded sft_loss of every step, "step loss" per line (a resumed run may repeat steps).
losses() { python3 -c '
import json, sys
last = {}
for line in open(sys.argv[1]):
    r = json.loads(line); last[r["step"]] = r["sft_loss"]
print("\n".join(f"{s} {last[s]!r}" for s in sorted(last)))' "$1"; }

# Both runs and the first half of the killed one use oneDNN linear layers; the resumed half says
# `matmul: auto` and must take oneDNN from the checkpoint, not from a start-up timing that can flip under
# load (the two backends round differently: CI once saw step 6 differ in the 8th digit).
# Likewise the thread count: both runs and the killed half run the learner on 1 thread; the resumed half leaves
# it to the thread plan (every core here) and must take 1 from the checkpoint (reductions split by thread count
# round differently).
matmul=onednn
straight() { "$seer" train "$tmp/config.yaml" --set run_dir="$tmp/straight" --set compute.matmul=$matmul \
  --set compute.learner_threads=1 >"$tmp/straight.log" 2>&1; }
straight_ok=1
if ! straight; then
  straight_ok=0
  if grep -q "built without oneDNN" "$tmp/straight.log"; then
    matmul=blas  # a LibTorch without oneDNN: only one backend, nothing to flip
    rm -rf "$tmp/straight"
    straight && straight_ok=1
  fi
fi
[ "$straight_ok" = 1 ] || { bad "straight run failed"; cat "$tmp/straight.log"; }

"$seer" train "$tmp/config.yaml" --set run_dir="$tmp/killed" --set compute.matmul=$matmul --set compute.learner_threads=1 \
  >"$tmp/killed.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
  [ -f "$tmp/killed/checkpoints/step-00000003/manifest.json" ] && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=""
steps_before=$(ls "$tmp/killed/checkpoints" | grep -c '^step-')
if [ -f "$tmp/killed/checkpoints/step-00000006/manifest.json" ]; then bad "the kill came after the run ended"
else ok "killed mid-run (checkpoints present: $(ls "$tmp/killed/checkpoints" | tr '\n' ' '))"; fi
"$seer" train "$tmp/config.yaml" --set run_dir="$tmp/killed" >"$tmp/resumed.log" 2>&1 \
  || { bad "resumed run failed"; cat "$tmp/resumed.log"; }
grep -q "resuming from" "$tmp/resumed.log" && ok "resumes from the latest checkpoint" || { bad "did not resume"; cat "$tmp/resumed.log"; }
if [ "$(nproc)" -gt 1 ]; then
  grep -q "1 intra-op threads, as in the checkpoint" "$tmp/resumed.log" && ok "the resumed learner takes its thread count from the checkpoint" \
    || { bad "thread count not taken from the checkpoint"; grep "intra-op" "$tmp/resumed.log"; }
fi

a=$(losses "$tmp/straight/metrics.jsonl")
b=$(losses "$tmp/killed/metrics.jsonl")
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$(echo "$a" | wc -l)" -eq 6 ]; then ok "identical losses for all 6 steps"
else bad "losses differ"; paste <(echo "$a") <(echo "$b"); fi
if cmp -s "$tmp/straight/checkpoints/step-00000006/model/model.safetensors" \
          "$tmp/killed/checkpoints/step-00000006/model/model.safetensors" &&
   cmp -s "$tmp/straight/checkpoints/step-00000006/optimizer.safetensors" \
          "$tmp/killed/checkpoints/step-00000006/optimizer.safetensors"; then
  ok "final model and optimizer state bit-identical"
else bad "final parameters differ"; fi

# Every checkpoint of the resumed run is a complete model folder, although the checkpoint it resumed from
# has been pruned (keep_last 2) by now.
if [ -f "$tmp/killed/checkpoints/step-00000006/model/tokenizer.json" ] && [ -f "$tmp/killed/checkpoints/step-00000005/model/preprocessor_config.json" ]
then ok "checkpoints after resume carry the tokenizer and processor files"
else bad "checkpoint model folder incomplete after resume"; ls -R "$tmp/killed/checkpoints"; fi

# Truncate the newest checkpoint: the next run says so and resumes from step 5.
f="$tmp/killed/checkpoints/step-00000006/model/model.safetensors"
truncate -s $(( $(stat -c %s "$f") / 2 )) "$f"
"$seer" train "$tmp/config.yaml" --set run_dir="$tmp/killed" --set trainer.steps=7 >"$tmp/corrupt.log" 2>&1
if grep -q "step-00000006 is corrupt (model/model.safetensors" "$tmp/corrupt.log" && grep -q "resuming from .*step-00000005" "$tmp/corrupt.log"
then ok "truncated checkpoint detected; resumed from the previous one"
else bad "truncated checkpoint not handled"; cat "$tmp/corrupt.log"; fi

# SIGTERM: stop after the current step, with a checkpoint, exit 0.
"$seer" train "$tmp/config.yaml" --set run_dir="$tmp/term" --set trainer.steps=1000 --set checkpoint.every_steps=0 \
  >"$tmp/term.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q "step 2/1000" "$tmp/term.log" && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
status=$?
pid=""
if [ $status -eq 0 ] && grep -q "stopped at step" "$tmp/term.log" && [ -f "$tmp/term/checkpoints/latest" ]; then
  ok "SIGTERM: checkpoint at $(cat "$tmp/term/checkpoints/latest"), exit 0"
else bad "SIGTERM handling (exit $status)"; cat "$tmp/term.log"; fi

# --resume on a run folder without checkpoints is an error naming the folder; --no-resume starts over.
"$seer" train "$tmp/config.yaml" --set run_dir="$tmp/empty" --resume >"$tmp/required.log" 2>&1
status=$?
if [ $status -eq 1 ] && grep -q "checkpoint.resume: required, but $tmp/empty/checkpoints holds no intact checkpoint" "$tmp/required.log"
then ok "--resume without a checkpoint fails clearly"; else bad "--resume without a checkpoint (exit $status)"; cat "$tmp/required.log"; fi
"$seer" train "$tmp/config.yaml" --set run_dir="$tmp/straight" --set trainer.steps=2 --no-resume >"$tmp/fresh.log" 2>&1
if ! grep -q "resuming from" "$tmp/fresh.log" && grep -q "finished at step 2" "$tmp/fresh.log" &&
   ls -d "$tmp"/straight/checkpoints.before-* >/dev/null 2>&1 && [ "$(cat "$tmp/straight/checkpoints/latest")" = "step-00000002" ]
then ok "--no-resume starts over (old checkpoints moved aside)"
else bad "--no-resume"; cat "$tmp/fresh.log"; fi

finish
