#!/usr/bin/env bash
# `seer check` on the quickstart's own configs, in a folder laid out as scripts/quickstart.sh lays it out
# (full digits-classify data, models/tiny, the 100-row SFT split and the RL rest): stage 1 passes, in under
# 30 s; stage 2 fails naming the SFT checkpoint it needs until that exists, and passes when pointed at a model.
# Usage: check_test.sh SEER_BINARY CONFIGS_DIR
set -u
. "$(dirname "$0")/lib.sh"
seer=$1
configs=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
ln -s "$configs" configs
"$seer" data make digits-classify --out data/digits-classify >fixture.log 2>&1 || { cat fixture.log; exit 1; }
"$seer" init-model models/tiny --preset tiny >fixture.log 2>&1 || { cat fixture.log; exit 1; }
head -n 100 data/digits-classify/sft_train.jsonl >data/digits-classify/sft_few.jsonl   # as scripts/quickstart.sh
tail -n +101 data/digits-classify/train.jsonl >data/digits-classify/rl_rest.jsonl

start=$(date +%s%N)
"$seer" check configs/quickstart-sft.yaml >sft.out 2>&1
status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $status -eq 0 ] && grep -q "^0 errors, 0 warnings" sft.out && [ $ms -lt 30000 ]; then
  ok "seer check configs/quickstart-sft.yaml passes in $ms ms (every row of $(wc -l <data/digits-classify/sft_few.jsonl) + $(wc -l <data/digits-classify/test.jsonl))"
else bad "quickstart-sft check: exit $status after $ms ms"; cat sft.out; fi

"$seer" check configs/quickstart.yaml >grpo.out 2>&1
status=$?
if [ $status -eq 1 ] && grep -q "^error: model.path: 'runs/quickstart-sft/checkpoints/step-00000600/model' does not exist" grpo.out; then
  ok "before SFT, the GRPO stage's check names the start model it needs"
else bad "quickstart GRPO check without the SFT model: exit $status"; cat grpo.out; fi

start=$(date +%s%N)
"$seer" check configs/quickstart.yaml --set model.path=models/tiny >grpo.out 2>&1
status=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $status -eq 0 ] && [ $ms -lt 30000 ]; then ok "seer check configs/quickstart.yaml passes in $ms ms ($(wc -l <data/digits-classify/rl_rest.jsonl) RL rows)"
else bad "quickstart GRPO check: exit $status after $ms ms"; cat grpo.out; fi

"$seer" check configs/quickstart.yaml --set model.path=models/tiny --sample 50 >sample.out 2>&1
grep -q "images decoded and prompts built for 50 of 1338 rows" sample.out && ok "--sample 50 says what it checked" \
  || { bad "--sample"; cat sample.out; }
finish
