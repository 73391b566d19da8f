#!/usr/bin/env bash
# End-to-end checks of the `seer` command line: help, config show/check with overrides and errors,
# and the exit status of subcommands that are not built yet.
# Usage: cli_test.sh SEER_BINARY CONFIGS_DIR
set -u
seer=$1
configs=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/lib.sh"

# seer --help lists every subcommand.
"$seer" --help >"$tmp/help" 2>&1
for cmd in train rollout reward run eval data init-model config version; do
  if grep -qE "^ +$cmd( |$)" "$tmp/help"; then ok "help lists $cmd"; else bad "help lists $cmd"; cat "$tmp/help"; fi
done

# Every shipped config validates.
for f in "$configs"/*.yaml; do
  if "$seer" config check "$f" >"$tmp/out" 2>&1; then ok "config check $(basename "$f")"
  else bad "config check $(basename "$f")"; cat "$tmp/out"; fi
done

# config show applies a typed override and prints YAML that reads back.
example="$configs/grpo-llava-qwen2.yaml"
"$seer" config show "$example" --set trainer.lr=2e-6 >"$tmp/resolved.yaml" 2>"$tmp/err"
if [ $? -eq 0 ] && grep -qE '^  lr: 2e-06( |$)' "$tmp/resolved.yaml"; then ok "config show --set"
else bad "config show --set"; cat "$tmp/resolved.yaml" "$tmp/err"; fi
if "$seer" config check "$tmp/resolved.yaml" >/dev/null 2>&1; then ok "printed config reads back"
else bad "printed config reads back"; fi

# A bad file: every problem, with positions, exit 1.
cat >"$tmp/bad.yaml" <<'YAML'
trainer:
  lr_shedule: cosine
  lr: -1
rollout:
  group_size: 1
YAML
"$seer" config check "$tmp/bad.yaml" >"$tmp/out" 2>&1
status=$?
if [ $status -eq 1 ] \
  && grep -qF "$tmp/bad.yaml:2:3: unknown key 'trainer.lr_shedule' (did you mean 'lr_schedule'?)" "$tmp/out" \
  && grep -qF "$tmp/bad.yaml:3:7: trainer.lr: -1 is out of range" "$tmp/out" \
  && grep -qF "$tmp/bad.yaml:5:3: rollout.group_size is 1" "$tmp/out" \
  && grep -qF "3 problems" "$tmp/out"; then ok "bad config lists problems"
else bad "bad config lists problems (exit $status)"; cat "$tmp/out"; fi

# A bad override is reported like a file error.
"$seer" config show "$example" --set trainer.steps=many >"$tmp/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -qF -- "--set trainer.steps=many: trainer.steps: expected an integer >= 1, got 'many'" "$tmp/out"
then ok "bad override"; else bad "bad override (exit $status)"; cat "$tmp/out"; fi

# Missing file.
"$seer" config show "$tmp/nope.yaml" >"$tmp/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -qF "$tmp/nope.yaml: cannot open config file" "$tmp/out"; then ok "missing file"
else bad "missing file (exit $status)"; cat "$tmp/out"; fi

# A misspelt subcommand gets a suggestion.
"$seer" trian >"$tmp/out" 2>&1
status=$?
if [ $status -eq 2 ] && grep -qF "did you mean 'train'?" "$tmp/out"; then ok "subcommand suggestion"
else bad "subcommand suggestion (exit $status)"; cat "$tmp/out"; fi


# train and eval name what is missing and exit 1.
printf 'model:\n  path: %s/no-model\nalgorithm:\n  name: sft\nmetrics:\n  prometheus: false\n' "$tmp" >"$tmp/t.yaml"
"$seer" train "$tmp/t.yaml" --set run_dir="$tmp/run" >"$tmp/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -qF "error: model.path: '$tmp/no-model' does not exist" "$tmp/out"; then ok "train: missing model named (preflight)"
else bad "train: missing model (exit $status)"; cat "$tmp/out"; fi
"$seer" eval --model "$tmp/no-model" --data "$tmp/none.jsonl" >"$tmp/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -qF "$tmp/no-model/config.json" "$tmp/out"; then ok "eval: missing model named"
else bad "eval: missing model (exit $status)"; cat "$tmp/out"; fi
"$seer" train "$tmp/t.yaml" --set algorithm.name=grpo --set run_dir="$tmp/run" --no-preflight >"$tmp/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -qF "$tmp/no-model/config.json" "$tmp/out"; then ok "train: grpo names the missing model (--no-preflight)"
else bad "train: grpo missing model (exit $status)"; cat "$tmp/out"; fi
# A rollout worker without a reward service address says which flag or key gives one.
"$seer" rollout --config "$tmp/t.yaml" --coordinator 127.0.0.1:1 >"$tmp/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -q "no reward service address: pass --reward" "$tmp/out"; then ok "rollout: missing reward address"
else bad "rollout: missing reward address (exit $status)"; cat "$tmp/out"; fi

# A misspelt nested command gets a suggestion too; no command at all prints the help.
"$seer" config shwo >"$tmp/out" 2>&1
status=$?
if [ $status -eq 2 ] && grep -qF "did you mean 'show'?" "$tmp/out"; then ok "nested suggestion"
else bad "nested suggestion (exit $status)"; cat "$tmp/out"; fi
"$seer" >"$tmp/out" 2>&1
status=$?
if [ $status -eq 2 ] && grep -q "Subcommands:" "$tmp/out"; then ok "no command prints help"
else bad "no command prints help (exit $status)"; cat "$tmp/out"; fi

# data make + data check: a generated task checks clean (exit 0); a bad row fails the check (exit 1).
"$seer" data make shapes-count --out "$tmp/shapes" --train 6 --test 3 >"$tmp/out" 2>&1
if "$seer" data check "$tmp/shapes/train.jsonl" >"$tmp/out" 2>&1 && grep -q "6 good rows" "$tmp/out"; then
  ok "data make + check"; else bad "data make + check"; cat "$tmp/out"; fi
printf '{"problem": "q"}\n' >>"$tmp/shapes/train.jsonl"
"$seer" data check "$tmp/shapes/train.jsonl" >"$tmp/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -qF "train.jsonl:7: missing field 'solution'" "$tmp/out"; then ok "data check bad row"
else bad "data check bad row (exit $status)"; cat "$tmp/out"; fi

# data check applies the config's image limits.
"$seer" data check "$tmp/shapes/test.jsonl" --set image.max_pixels=100 >"$tmp/out" 2>&1
status=$?
if [ $status -eq 1 ] && grep -q "over the 100 pixel limit" "$tmp/out"; then ok "data check image limit"
else bad "data check image limit (exit $status)"; cat "$tmp/out"; fi

# reward score --jsonl: one JSON line per row with its id and verdict; a bad row names FILE:LINE and the rest
# still score (exit 1).
cat >"$tmp/score.jsonl" <<'ROWS'
{"id": "half", "gold": "\\frac{1}{2}", "completion": "<think>t</think><answer>\\boxed{0.5}</answer>"}
{"id": "flip", "gold": "x<1", "completion": "<think>t</think><answer>x>1</answer>"}
{"gold": 3, "completion": "<think>t</think><answer>3</answer>"}
{"id": "choice", "gold": "B", "answer_type": "choice", "completion": "<think>t</think><answer>(B)</answer>"}
ROWS
"$seer" reward score --jsonl "$tmp/score.jsonl" >"$tmp/out" 2>"$tmp/err"
status=$?
if [ $status -eq 1 ] && [ "$(wc -l <"$tmp/out")" -eq 4 ] &&
   grep -q '"id":"half".*"line":1' "$tmp/out" && grep -q '"accuracy":1.0.*"id":"half"' "$tmp/out" &&
   grep -q '"accuracy":0.0.*"id":"flip"' "$tmp/out" &&
   grep -qF "score.jsonl:3: 'gold' has the wrong type" "$tmp/out" &&
   grep -q '"accuracy":1.0.*"id":"choice"' "$tmp/out"; then ok "reward score --jsonl"
else bad "reward score --jsonl (exit $status)"; cat "$tmp/out" "$tmp/err"; fi

# version prints the libraries.
if "$seer" version >"$tmp/out" 2>&1 && grep -q '^seer ' "$tmp/out" && grep -q '^LibTorch ' "$tmp/out"; then
  ok "version"; else bad "version"; cat "$tmp/out"; fi

finish
