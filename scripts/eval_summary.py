#!/usr/bin/env python3
"""Markdown summary of `seer eval --json` reports: the table the quickstart and scripts/rl-vs-sft.sh print.

Usage: eval_summary.py OUT.md LABEL=GREEDY.json[,SAMPLED.json] ...
Each LABEL gets a row: greedy accuracy, the split's majority-answer baseline, balanced (per-class mean)
accuracy, total variation distance between predicted and gold answer histograms, format rate, and pass@k
from the sampled report when given. Then per-answer accuracy and the predicted-answer histograms side by
side with the gold histogram, so that a policy that answers the label prior cannot hide behind its mean.
"""
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def main():
    out, specs = sys.argv[1], sys.argv[2:]
    rows = []
    for spec in specs:
        label, files = spec.split("=", 1)
        greedy, *sampled = files.split(",")
        rows.append((label, load(greedy), load(sampled[0]) if sampled else None))
    lines = ["| model (held-out test split, greedy) | accuracy | majority baseline | balanced acc. | "
             "TV distance to gold | format | pass@k (k samples) |", "|---|---|---|---|---|---|---|"]
    for label, g, s in rows:
        o, a = g["overall"], g["answers"]
        k = f"{s['overall']['pass_at_k'] * 100:.1f}% (k={s['samples_per_row']})" if s else "-"
        lines.append(f"| {label} | {o['accuracy'] * 100:.1f}% | {a['majority_baseline'] * 100:.1f}% "
                     f"(\"{a['majority_answer']}\") | {a['balanced_accuracy'] * 100:.1f}% | "
                     f"{a['total_variation']:.3f} | {o['format']:.3f} | {k} |")
    gold = rows[0][1]["answers"]["gold_histogram"]
    answers = sorted(gold, key=lambda x: (-gold[x], x))
    lines += ["", "Per answer: gold rows, then for each model its accuracy on those rows and how often it gave "
              "that answer (predictions that are no gold answer are counted under 'other').", ""]
    head = "| answer | gold | " + " | ".join(f"{label} acc. | {label} pred." for label, _, _ in rows) + " |"
    lines += [head, "|" + "---|" * (2 + 2 * len(rows))]
    for ans in answers:
        cells = []
        for _, g, _ in rows:
            c = g["answers"]["per_answer"].get(ans, {"accuracy": 0, "predicted": 0})
            cells.append(f"{c['accuracy'] * 100:.0f}% | {c['predicted']}")
        lines.append(f"| {ans} | {gold[ans]} | " + " | ".join(cells) + " |")
    other = []
    for _, g, _ in rows:
        hist = g["answers"]["predicted_histogram"]
        other.append(f"- | {sum(n for k, n in hist.items() if k not in gold)}")
    lines.append("| other | 0 | " + " | ".join(other) + " |")
    text = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
