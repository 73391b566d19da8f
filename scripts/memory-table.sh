#!/usr/bin/env bash
# The README's per-GPU memory table: `seer doctor --config` for the shipped recipes on 8 x 80 GiB GPUs with the
# GPU build's fused attention, for the model configs in configs/models (no weights needed).
# Usage: scripts/memory-table.sh [SEER_BINARY]   (default build/bin/seer)
set -eu
seer=${1:-build/bin/seer}
cd "$(dirname "$0")/.."
all="--set trainer.shard_optimizer=true --set trainer.gradient_checkpointing=true --set compute.learner_dtype=bfloat16"
rows=(
  "LLaVA-1.5-7B|configs/grpo-llava-1.5.yaml|llava-1.5-7b|as shipped|"
  "LLaVA-1.5-7B|configs/grpo-llava-1.5.yaml|llava-1.5-7b|sharded + checkpointing + bf16|$all"
  "LLaVA-1.5-7B|configs/grpo-llava-1.5.yaml|llava-1.5-7b|same, kl_coef 0 (no reference)|$all --set algorithm.kl_coef=0"
  "Qwen2.5-VL-3B|configs/grpo-qwen2.5-vl-3b.yaml|qwen2.5-vl-3b|as shipped|"
  "Qwen2.5-VL-3B|configs/grpo-qwen2.5-vl-3b.yaml|qwen2.5-vl-3b|checkpointing|--set trainer.gradient_checkpointing=true"
  "Qwen2.5-VL-3B|configs/grpo-qwen2.5-vl-3b.yaml|qwen2.5-vl-3b|sharded + checkpointing + bf16|$all"
  "Qwen2.5-VL-7B|configs/grpo-qwen2.5-vl-3b.yaml|qwen2.5-vl-7b|3B recipe as shipped|"
  "Qwen2.5-VL-7B|configs/grpo-qwen2.5-vl-3b.yaml|qwen2.5-vl-7b|sharded + checkpointing + bf16|$all"
  "Qwen2.5-VL-7B|configs/grpo-qwen2.5-vl-3b.yaml|qwen2.5-vl-7b|same, kl_coef 0, prompts_per_call 8|$all --set algorithm.kl_coef=0 --set rollout.prompts_per_call=8"
)
gib() { awk -v part="$1" '$1 == part || ($1 " " $2) == part { print $(NF) }' ; }
echo "| model | recipe | switches | learner GiB: weights / grads / AdamW / reference / activations+logits | learner total | rollout total |"
echo "|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
  IFS='|' read -r model config folder what sets <<<"$row"
  # shellcheck disable=SC2086
  out=$("$seer" doctor --config "$config" --set model.path="configs/models/$folder" $sets --learner-ranks 8 --gpu-gib 80 \
        --attention sdpa) || true
  value() { awk -v part="$1" 'index($0, "  " part " ") == 1 { for (i = 1; i <= NF; ++i) if ($i ~ /^[0-9.]+$/) { print $i; exit } }' <<<"$out"; }
  section() { awk -v s="$1" '$0 ~ "^" s { on = 1; next } on && /^  total/ { print $2 " (" ($3 == "fits" ? "fits" : "does not fit") ")"; exit }' <<<"$out"; }
  ref=$(value "reference model"); [ -n "$ref" ] || ref=0
  act=$(awk -v a="$(value activations)" -v l="$(value logits)" 'BEGIN { printf "%.1f", a + l }')
  echo "| $model | \`$(basename "$config")\` | $what | $(value parameters) / $(value gradients) / $(value "optimizer state") / $ref / $act | $(section "learner rank") | $(section "rollout worker") |"
done
