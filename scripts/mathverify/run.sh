#!/usr/bin/env bash
# Differential test of seer's accuracy reward against Hugging Face Math-Verify (issue 21; a dev tool, never in
# seer's runtime). Sets up a project-local virtual environment with a pinned Math-Verify from PyPI, unpacks its
# source distribution (which holds its tests), and runs scripts/mathverify/diff.py: Math-Verify's own test cases
# and a generated corpus through `seer reward score --jsonl`, answer_type auto and math.
# Usage: scripts/mathverify/run.sh [SEER_BINARY] [OUT_DIR]   (default build/bin/seer, runs/mathverify)
# Output: a summary per set on stdout, every disagreement with its category in OUT_DIR/disagreements.md.
# Exit status 1 when seer scores a wrong answer 1.0 (a false accept).
set -euo pipefail
cd "$(dirname "$0")/../.."
seer=${1:-build/bin/seer}
out=${2:-runs/mathverify}
venv=.venv-mathverify
version=0.8.0  # math-verify; its parser, sympy and pytest pinned beside it (versions of 2026-12)
if [[ ! -x $venv/bin/python ]] || ! $venv/bin/python -c "import math_verify, pytest" 2>/dev/null; then
  python3 -m venv $venv
  $venv/bin/pip install -q "math-verify==$version" "latex2sympy2_extended==1.10.2" "antlr4-python3-runtime==4.13.2" \
    "sympy==1.14.0" "pytest==8.3.4"
fi
src=$venv/src/math_verify-$version
if [[ ! -d $src/tests ]]; then
  mkdir -p $venv/src
  $venv/bin/pip download -q --no-binary :all: --no-deps -d $venv/src "math-verify==$version"
  tar xzf $venv/src/math_verify-$version.tar.gz -C $venv/src
fi
cd scripts/mathverify
exec ../../$venv/bin/python diff.py --seer "$(realpath ../../"$seer")" --tests "$(realpath ../../$src/tests)" \
  --out "$(realpath -m ../../"$out")"
