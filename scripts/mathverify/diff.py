#!/usr/bin/env python3
"""Differential test of seer's accuracy reward against Hugging Face Math-Verify (issue 21, a dev tool).

Runs two sets of (gold, prediction) pairs through `seer reward score --jsonl` (answer_type auto and math):
  1. Math-Verify's own test cases, read from the parametrize marks of the test modules of its source
     distribution (the expected verdict of each case is Math-Verify's, written by its authors);
  2. a generated corpus of equal and unequal pairs (corpus.py), judged by Math-Verify's parse + verify and
     by how the pair was made.
Every disagreement is listed with its category. A category that CONVENTIONS names is a choice of seer's
reward contract (reward/CONVENTIONS.md says why); everything else is a bug to fix.

Usage (scripts/mathverify/run.sh sets up the pinned environment):
  python diff.py --seer build/bin/seer --tests DIR/math_verify-X/tests --out runs/mathverify
Exit status 1 when seer scores a wrong answer 1.0 anywhere (a false accept), else 0.
"""
import argparse
import importlib
import json
import os
import re
import subprocess
import sys
import tempfile

import corpus

# Categories that are seer's contract on purpose (reward/CONVENTIONS.md), not disagreements to fix.
CONVENTIONS = {
    "prose-answer": "the answer (or gold) is prose around an unboxed answer; seer never searches free text (contract §1)",
    "several-boxes": "several \\boxed{} in one answer or gold; contract §1 takes the last one, Math-Verify all of them",
    "decimal-comma": "a decimal comma (1,22 = 1.22); seer reads a comma as a list separator or a thousands separator",
    "mv-option": "the case sets a non-default Math-Verify option (strict=False, allow_set_relation_comp, precision)",
    "mv-accepts-wrong": "Math-Verify's expected verdict accepts an answer that is not equal to the gold",
}

# Cases whose expected verdict is a wrong answer accepted (checked by hand; reason in CONVENTIONS.md).
MV_ACCEPTS_WRONG = {
    ("$1 - \\frac{1}{\\mathrm{e}}$", "$1 + \\frac{1}{\\mathrm{e}}$"),
}

_PROSE = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{2,}[ ,.:;]+[A-Za-z]{2,}(?![A-Za-z]*\{)")


_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_DECIMAL_COMMA = re.compile(r"^\$?-?(\d+,(\d{1,2}|\d{4,})|0,\d+)\$?$")


def is_prose(text: str) -> bool:
    """The text has words around its answer and no box that would isolate the answer."""
    if "\\boxed" in text or "\\fbox" in text:
        return False
    bare = re.sub(r"\\(text|mathrm|textbf|mbox|textnormal)\{[^{}]*\}", " ", text)
    bare = re.sub(r"\$[^$]*\$|\\\[.*?\\\]|\\\(.*?\\\)", " ", bare, flags=re.S)  # math spans
    bare = re.sub(r"\\[A-Za-z]+", " ", bare)
    return bool(_PROSE.search(bare) or _WORD.search(bare))


def mv_test_cases(tests_dir: str):
    """(gold, pred, expected, test name, extra options) of every gold/pred parametrized Math-Verify test."""
    sys.path.insert(0, os.path.dirname(tests_dir))
    cases = []
    for f in sorted(os.listdir(tests_dir)):
        if not (f.startswith("test_") and f.endswith(".py")):
            continue
        module = importlib.import_module(f"tests.{f[:-3]}")
        for name in dir(module):
            fn = getattr(module, name)
            for mark in getattr(fn, "pytestmark", []):
                if mark.name != "parametrize":
                    continue
                argnames = [a.strip() for a in mark.args[0].split(",")] if isinstance(mark.args[0], str) else list(mark.args[0])
                if "gold" not in argnames or "pred" not in argnames:
                    continue
                for values in mark.args[1]:
                    row = dict(zip(argnames, values))
                    expected = row.pop("expected", row.pop("result", None))
                    gold, pred = row.pop("gold"), row.pop("pred")
                    extra = {k: v for k, v in row.items() if not (k == "strict" and v is True)}
                    if extra.get("precision") == 6:
                        extra.pop("precision")
                    cases.append({"source": f"{f}::{name}", "gold": gold, "pred": pred, "expected": int(expected),
                                  "options": extra})
    return cases


def seer_scores(seer: str, cases, answer_type: str):
    """seer's accuracy component (0/1, or None when the status is not OK) and status of every case."""
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for i, c in enumerate(cases):
            f.write(json.dumps({"id": i, "gold": c["gold"], "answer_type": answer_type,
                                "completion": f"<think>.</think><answer>{c['pred']}</answer>"}) + "\n")
        path = f.name
    try:
        out = subprocess.run([seer, "reward", "score", "--jsonl", path], capture_output=True, text=True, check=False)
    finally:
        os.unlink(path)
    if out.returncode == 2:
        sys.exit(f"seer reward score failed: {out.stderr}")
    results = [None] * len(cases)
    for line in out.stdout.splitlines():
        r = json.loads(line)
        if "error" in r:
            continue
        acc = r["components"].get("accuracy")
        results[r["id"]] = {"status": r["status"], "type": r["type"], "extracted": r["extracted_answer"],
                            "accuracy": acc}
    return results


def category(case, seer) -> str:
    if seer is None:
        return "error"
    got = 1 if (seer["status"] == "OK" and seer["accuracy"] == 1.0) else 0
    if got == case["expected"]:
        return "agree"
    if case.get("options"):  # few cases, each reviewed by hand in reward/CONVENTIONS.md
        return "mv-option"
    if got == 1:
        return "false-accept"
    if (case["gold"], case["pred"]) in MV_ACCEPTS_WRONG:
        return "mv-accepts-wrong"
    if case["pred"].count("\\boxed") > 1 or case["gold"].count("\\boxed") > 1:
        return "several-boxes"
    if _DECIMAL_COMMA.match(case["pred"].strip()) or _DECIMAL_COMMA.match(case["gold"].strip()):
        return "decimal-comma"
    if is_prose(case["pred"]) or is_prose(case["gold"]):
        return "prose-answer"
    if seer["status"] == "GOLD_UNPARSEABLE":
        return "gold-unparseable"
    if seer["status"] == "NO_ANSWER":
        return "no-answer"
    return f"false-reject ({seer['type']})"


def report(title, cases, results, out):
    counts = {}
    lines = [f"## {title}", ""]
    for c, s in zip(cases, results):
        cat = category(c, s)
        counts[cat] = counts.get(cat, 0) + 1
        if cat != "agree":
            lines.append(f"- [{cat}] {c.get('source', '')} gold `{c['gold'][:160]}` pred `{c['pred'][:160]}` "
                         f"expected {c['expected']}{'' if 'mv' not in c else ', Math-Verify ' + str(c['mv'])}; seer {s and s['status']} {s and s['type']} "
                         f"extracted `{(s and s['extracted'] or '')[:80]}`")
    considered = sum(n for k, n in counts.items() if k not in CONVENTIONS)
    agree = counts.get("agree", 0)
    summary = (f"{title}: {len(cases)} cases, {agree} agree; outside the conventions {agree}/{considered} = "
               f"{100.0 * agree / max(considered, 1):.1f} %; false accepts {counts.get('false-accept', 0)}; "
               f"by category {json.dumps(counts, sort_keys=True)}")
    if cases and "mv" in cases[0]:
        mv_right = sum(1 for c in cases if c["mv"] == c["expected"])
        summary += f"; Math-Verify itself agrees with the constructed truth on {mv_right}/{len(cases)}"
    out.write("\n".join(lines[:2] + [summary, ""] + lines[2:]) + "\n\n")
    print(summary)
    return counts.get("false-accept", 0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seer", default="build/bin/seer")
    ap.add_argument("--tests", required=True, help="the tests/ folder of Math-Verify's source distribution")
    ap.add_argument("--out", default="runs/mathverify")
    ap.add_argument("--corpus-size", type=int, default=2000)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import math_verify  # noqa: F401  (fails early outside the pinned environment)

    false_accepts = 0
    with open(os.path.join(args.out, "disagreements.md"), "w") as out:
        cases = mv_test_cases(os.path.abspath(args.tests))
        for answer_type in ("auto", "math"):
            false_accepts += report(f"Math-Verify test suite, answer_type {answer_type}", cases,
                                    seer_scores(args.seer, cases, answer_type), out)
        pairs = corpus.generate(args.corpus_size, seed=21)
        for answer_type in ("auto", "math"):
            false_accepts += report(f"generated corpus, answer_type {answer_type}", pairs,
                                    seer_scores(args.seer, pairs, answer_type), out)
    print(f"disagreements listed in {args.out}/disagreements.md")
    return 1 if false_accepts else 0


if __name__ == "__main__":
    sys.exit(main())
