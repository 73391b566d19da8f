#!/usr/bin/env bash
# The quickstart (`make quickstart`): real handwritten digits, a `tiny` VLM trained from scratch, and GRPO
# that improves a visual skill (reading a handwritten digit) on images SFT never saw.
#   1. data: digits-classify (UCI digits that scripts/install-deps.sh provides), split in two disjoint parts:
#      the first 100 training rows with their reasoning text (sft_few.jsonl) and the other 1338 rows as
#      RL prompts (rl_rest.jsonl, used only through the reward's accuracy and format scores)
#   2. SFT on the 100 labelled rows (configs/quickstart-sft.yaml): the start model
#   3. GRPO on the rest (configs/quickstart.yaml: seer run = reward service + learner + rollout worker)
#   4. evaluation of the start model and of the GRPO model on the held-out test split (greedy, and 8
#      samples per row for pass@8): accuracy, majority-answer baseline, per-class accuracy, predicted vs gold
#      histogram (total variation distance), format rate; runs/quickstart/summary.md and a plot of the GRPO
#      run (runs/quickstart/grpo.png, gnuplot)
# Usage: scripts/quickstart.sh [SEER_BINARY] [--seed N] [--set KEY=VALUE ...]   (default build/bin/seer, seed 1;
# --set applies to every stage, e.g. --set compute.matmul=onednn for the other linear-layer backend). Starts fresh each
# time: the run folders of an earlier quickstart are moved aside (runs/quickstart*.before-TIME), not deleted.
set -euo pipefail
seer=build/bin/seer
seed=1
overrides=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seed) seed=$2; shift 2 ;;
    --set) overrides+=(--set "$2"); shift 2 ;;
    *) seer=$1; shift ;;
  esac
done
[[ -x "$seer" ]] || { echo "quickstart: no seer binary at $seer (make build)" >&2; exit 1; }
out=runs/quickstart
stamp=$(date +%Y%m%dT%H%M%S)
for d in runs/quickstart-sft runs/quickstart; do
  if [[ -e "$d" ]]; then mv "$d" "$d.before-$stamp"; echo "quickstart: moved the earlier $d to $d.before-$stamp"; fi
done
mkdir -p "$out"
t0=$(date +%s)
stage() { echo; echo "=== quickstart: $1 ($(( $(date +%s) - t0 )) s so far)"; }
seed_args=(--set seed="$seed" "${overrides[@]}")

stage "data and model"
data=data/digits-classify
[[ -s $data/sft_train.jsonl ]] || "$seer" data make digits-classify --out $data
labelled=100  # SFT sees these rows (10 per class on average); GRPO the rest, through the reward only
head -n $labelled $data/sft_train.jsonl > $data/sft_few.jsonl
tail -n +$(( labelled + 1 )) $data/train.jsonl > $data/rl_rest.jsonl
[[ -s models/tiny/config.json ]] || "$seer" init-model models/tiny --preset tiny

stage "SFT on $labelled labelled rows (the start model)"
t_train=$(date +%s)
"$seer" run configs/quickstart-sft.yaml "${seed_args[@]}"
sft_model=$(ls -d runs/quickstart-sft/checkpoints/step-*/model | tail -n 1)
evaluate() {  # evaluate NAME MODEL: greedy and 8 samples per row, JSON reports in $out
  "$seer" eval --config configs/quickstart.yaml "${seed_args[@]}" --model "$2" --json "$out/eval-$1.json"
  "$seer" eval --config configs/quickstart.yaml "${seed_args[@]}" --model "$2" --samples 8 --json "$out/eval-$1-k8.json" >/dev/null
}
evaluate start "$sft_model"

stage "GRPO on the other $(wc -l < $data/rl_rest.jsonl) rows"
"$seer" run configs/quickstart.yaml "${seed_args[@]}" --set model.path="$sft_model"
grpo_model=$(ls -d runs/quickstart/checkpoints/step-*/model | tail -n 1)
evaluate grpo "$grpo_model"
train_seconds=$(( $(date +%s) - t_train ))

stage "summary"
python3 scripts/eval_summary.py "$out/summary.md" \
  "start (SFT on $labelled rows)=$out/eval-start.json,$out/eval-start-k8.json" \
  "after GRPO=$out/eval-grpo.json,$out/eval-grpo-k8.json"
python3 - "$out" "$train_seconds" "$seed" "${overrides[*]:-}" >> "$out/summary.md" <<'PY'
import json, sys
out, seconds, seed, overrides = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s, g = (json.load(open(f"{out}/eval-{n}.json")) for n in ("start", "grpo"))
gain = (g["overall"]["accuracy"] - s["overall"]["accuracy"]) * 100
over = (g["overall"]["accuracy"] - g["answers"]["majority_baseline"]) * 100
print(f"\nGRPO gain: {gain:+.1f} points of held-out accuracy over the start model, {over:+.1f} over the "
      f"majority answer. Seed {seed}{' (' + overrides + ')' if overrides else ''}. Training stages (SFT, GRPO, four evaluations): {seconds // 60} min {seconds % 60} s.")
PY
tail -n 2 "$out/summary.md"

if command -v gnuplot >/dev/null; then
  python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
with open(f"{out}/grpo.dat", "w") as f:
    for line in open(f"{out}/metrics.jsonl"):
        r = json.loads(line)
        f.write(f"{r['step']} {r.get('reward/accuracy', 0)} {r.get('reward/format', 0)} "
                f"{r.get('groups/equal_reward_fraction', 0)} {r.get('entropy', 0)}\n")
PY
  gnuplot <<GP
set terminal pngcairo size 900,500 font ",11"
set output "$out/grpo.png"
set title "GRPO on digits-classify after SFT on 100 rows (tiny, 2 CPU cores): training samples per step"
set xlabel "learner step"
set yrange [0:1.05]
set key bottom right
set grid
plot "$out/grpo.dat" using 1:2 with lines lw 2 title "accuracy (sampled, T=1)", \
     "$out/grpo.dat" using 1:3 with lines lw 1 title "format", \
     "$out/grpo.dat" using 1:4 with lines lw 1 title "groups without signal", \
     "$out/grpo.dat" using 1:5 with lines lw 1 title "token entropy (nats)"
GP
  echo "plot: $out/grpo.png"
else
  echo "gnuplot not installed: no plot (scripts/install-deps.sh installs gnuplot-nox)"
fi
echo "quickstart done in $(( $(date +%s) - t0 )) s; table in $out/summary.md"
