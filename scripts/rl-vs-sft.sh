#!/usr/bin/env bash
# RL against SFT (R1-V's question: does RL generalise where SFT memorises?). From the same start model (the
# quickstart's SFT on 100 labelled digits) and for the same wall time, train
#   - GRPO on the other 1338 training images (configs/quickstart.yaml: accuracy and format rewards only), and
#   - plain SFT on the same 1338 images' reasoning rows (configs/quickstart-sft.yaml's recipe: the labels and
#     the templated <think> text),
# then report held-out accuracy in distribution (test.jsonl) and out of distribution (test_ood.jsonl: the
# same test digits drawn smaller at a random place, a layout no training row has).
# Not in CI. Usage: scripts/rl-vs-sft.sh [SEER_BINARY] [--minutes M] [--seed N]   (default 4 minutes, seed 1)
set -euo pipefail
seer=build/bin/seer
minutes=4
seed=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --minutes) minutes=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    *) seer=$1; shift ;;
  esac
done
[[ -x "$seer" ]] || { echo "rl-vs-sft: no seer binary at $seer (make build)" >&2; exit 1; }
data=data/digits-classify
out=runs/rl-vs-sft
stamp=$(date +%Y%m%dT%H%M%S)
for d in $out runs/rl-vs-sft-grpo runs/rl-vs-sft-sft; do
  if [[ -e "$d" ]]; then mv "$d" "$d.before-$stamp"; fi
done
mkdir -p $out
[[ -s $data/test_ood.jsonl ]] || "$seer" data make digits-classify --out $data
labelled=100
head -n $labelled $data/sft_train.jsonl > $data/sft_few.jsonl
tail -n +$(( labelled + 1 )) $data/train.jsonl > $data/rl_rest.jsonl
tail -n +$(( labelled + 1 )) $data/sft_train.jsonl > $data/sft_rest.jsonl
[[ -s models/tiny/config.json ]] || "$seer" init-model models/tiny --preset tiny

start=$(ls -d runs/quickstart-sft/checkpoints/step-*/model 2>/dev/null | tail -n 1 || true)
if [[ -z "$start" ]]; then
  "$seer" run configs/quickstart-sft.yaml --set seed="$seed"
  start=$(ls -d runs/quickstart-sft/checkpoints/step-*/model | tail -n 1)
fi
echo "rl-vs-sft: start model $start; $minutes minutes each"

# Each run is stopped by SIGINT after the wall time (it checkpoints the step it is on), so steps are
# effectively unlimited and the schedule constant. Periodic checkpoints as well: one SFT run was killed
# before its final checkpoint (exit 137 right after the stop signal; not yet understood), and the last
# periodic one is then evaluated (at most 25 GRPO / 200 SFT steps, a few seconds, earlier).
timeout -s INT "${minutes}m" "$seer" run configs/quickstart.yaml --set name=rl-vs-sft-grpo --set seed="$seed" \
  --set model.path="$start" --set trainer.steps=1000000 --set trainer.lr_schedule=constant \
  --set checkpoint.every_steps=25 --set checkpoint.keep_last=2 || true
timeout -s INT "${minutes}m" "$seer" run configs/quickstart-sft.yaml --set name=rl-vs-sft-sft --set seed="$seed" \
  --set model.path="$start" --set data.train=$data/sft_rest.jsonl --set trainer.steps=1000000 \
  --set trainer.lr_schedule=constant --set checkpoint.every_steps=200 --set checkpoint.keep_last=2 || true

specs_in=() specs_ood=()
for run in start grpo sft; do
  case $run in
    start) model=$start ;;
    *) model=$(ls -d runs/rl-vs-sft-$run/checkpoints/step-*/model | tail -n 1) ;;
  esac
  for split in test test_ood; do
    "$seer" eval --config configs/quickstart.yaml --set seed="$seed" --model "$model" --data $data/$split.jsonl \
      --json $out/$run-$split.json >/dev/null
  done
  steps=$(basename "$(dirname "$model")")
  specs_in+=("$run ($steps)=$out/$run-test.json")
  specs_ood+=("$run ($steps)=$out/$run-test_ood.json")
done
{
  echo "# RL vs SFT, $minutes minutes each from the same start model (seed $seed)"
  echo; echo "## In distribution (test.jsonl)"; echo
} > $out/summary.md
python3 scripts/eval_summary.py $out/in.md "${specs_in[@]}" >/dev/null
python3 scripts/eval_summary.py $out/ood.md "${specs_ood[@]}" >/dev/null
{ cat $out/in.md; echo; echo "## Out of distribution (test_ood.jsonl: smaller digits, random place)"; echo; cat $out/ood.md; } >> $out/summary.md
cat $out/summary.md
