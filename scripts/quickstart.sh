#!/usr/bin/env bash
# The quickstart (`make quickstart`): real handwritten digits, a `tiny` VLM trained from scratch.
#   1. data: digits-classify and digits-count (from the UCI digits that scripts/install-deps.sh provides)
#   2. SFT on digits-classify (configs/quickstart-sft.yaml), then greedy evaluation
#   3. GRPO on digits-count (configs/quickstart.yaml: seer run = reward service + learner + rollout worker)
#   4. greedy evaluation again; a before/after table, runs/quickstart/summary.md and a plot of reward and
#      accuracy per GRPO step (runs/quickstart/grpo.png, gnuplot)
# Usage: scripts/quickstart.sh [SEER_BINARY]   (default build/bin/seer). Starts fresh each time: the run
# folders of an earlier quickstart are moved aside (runs/quickstart*.before-TIME), not deleted.
set -euo pipefail
seer=${1:-build/bin/seer}
[[ -x "$seer" ]] || { echo "quickstart: no seer binary at $seer (make build)" >&2; exit 1; }
out=runs/quickstart
stamp=$(date +%Y%m%dT%H%M%S)
for d in runs/quickstart-sft runs/quickstart; do
  if [[ -e "$d" ]]; then mv "$d" "$d.before-$stamp"; echo "quickstart: moved the earlier $d to $d.before-$stamp"; fi
done
mkdir -p "$out"
t0=$(date +%s)
stage() { echo; echo "=== quickstart: $1 ($(( $(date +%s) - t0 )) s so far)"; }
# accuracy/format/reward of an eval JSON report
field() { python3 -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['overall'][sys.argv[2]])" "$1" "$2"; }

stage "data and model"
[[ -s data/digits-classify/sft_train.jsonl ]] || "$seer" data make digits-classify --out data/digits-classify
[[ -s data/digits-count/train.jsonl ]] || "$seer" data make digits-count --out data/digits-count
[[ -s models/tiny/config.json ]] || "$seer" init-model models/tiny --preset tiny

stage "SFT on digits-classify"
t_train=$(date +%s)
"$seer" run configs/quickstart-sft.yaml
sft_model=runs/quickstart-sft/checkpoints/step-00002000/model
"$seer" eval --config configs/quickstart-sft.yaml --model "$sft_model" --json "$out/eval-sft-classify.json"
"$seer" eval --config configs/quickstart.yaml --model "$sft_model" --json "$out/eval-sft-count.json"

stage "GRPO on digits-count"
"$seer" run configs/quickstart.yaml --set model.path="$sft_model"
grpo_model=runs/quickstart/checkpoints/step-00000100/model
"$seer" eval --config configs/quickstart.yaml --model "$grpo_model" --json "$out/eval-grpo-count.json"
train_seconds=$(( $(date +%s) - t_train ))

stage "summary"
python3 - "$out" "$train_seconds" <<'PY'
import json, sys, collections
out, seconds = sys.argv[1], int(sys.argv[2])
def load(name): return json.load(open(f"{out}/{name}.json"))
sft_c, sft, grpo = load("eval-sft-classify"), load("eval-sft-count"), load("eval-grpo-count")
def row(name, r): o = r["overall"]; return f"| {name} | {o['accuracy']*100:.1f}% | {o['format']:.3f} | {o['reward']:.3f} |"
answers = collections.Counter(s["extracted"] or "(none)" for s in grpo["samples"]).most_common(5)
lines = [
    "| model, task (greedy, held-out test split) | accuracy | format | reward |",
    "|---|---|---|---|",
    row("SFT, digits-classify", sft_c),
    row("SFT, digits-count (GRPO start)", sft),
    row("SFT + GRPO, digits-count", grpo),
    "",
    f"GRPO gain on digits-count: {(grpo['overall']['accuracy'] - sft['overall']['accuracy'])*100:+.1f} points of accuracy, "
    f"format {sft['overall']['format']:.3f} -> {grpo['overall']['format']:.3f}.",
    f"Most frequent answers after GRPO: " + ", ".join(f"{a} ({n})" for a, n in answers) + ".",
    f"Training stages (SFT, GRPO, three evaluations): {seconds // 60} min {seconds % 60} s.",
]
open(f"{out}/summary.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY

if command -v gnuplot >/dev/null; then
  python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
with open(f"{out}/grpo.dat", "w") as f:
    for line in open(f"{out}/metrics.jsonl"):
        r = json.loads(line)
        f.write(f"{r['step']} {r.get('reward_mean', 0)} {r.get('reward/accuracy', 0)} {r.get('reward/format', 0)}\n")
PY
  gnuplot <<GP
set terminal pngcairo size 900,500 font ",11"
set output "$out/grpo.png"
set title "GRPO on digits-count (tiny, 2 CPU cores): training samples per step"
set xlabel "learner step"
set yrange [0:1.05]
set key top left
set grid
plot "$out/grpo.dat" using 1:2 with lines lw 2 title "reward (mean)", \
     "$out/grpo.dat" using 1:3 with lines lw 2 title "accuracy", \
     "$out/grpo.dat" using 1:4 with lines lw 2 title "format"
GP
  echo "plot: $out/grpo.png"
else
  echo "gnuplot not installed: no plot (scripts/install-deps.sh installs gnuplot-nox)"
fi
echo "quickstart done in $(( $(date +%s) - t0 )) s; table in $out/summary.md"
