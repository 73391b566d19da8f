#!/usr/bin/env bash
# The peer environment of bench/compare.sh: Hugging Face transformers (pinned) in a project-local virtual
# environment, .venv-peer/, over Debian's python3-torch 1.13, which runs on the same libtorch 1.13 and BLAS
# (libblas.so.3 = OpenBLAS after scripts/install-deps.sh) as seer's default build: both sides use the same ATen
# kernels, so the comparison measures the frameworks, not the kernels. Not used by seer itself or by CI.
# Usage: bench/peer/setup.sh   (prints the venv's python)
set -euo pipefail
cd "$(dirname "$0")/../.."
TRANSFORMERS_VERSION=4.46.3  # runs on torch 1.13 (checked) and has LLaVA and Qwen2-VL
venv=${SEER_PEER_VENV:-.venv-peer}
if ! /usr/bin/python3 -c "import torch" 2>/dev/null || [ ! -x /usr/bin/python3 ] || ! /usr/bin/python3 -m venv --help >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get install -y -q python3-torch python3-venv >&2
fi
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"  # Debian's torch comes from the system
fi
if ! "$venv/bin/python" -c "import transformers, sys; sys.exit(transformers.__version__ != '$TRANSFORMERS_VERSION')" 2>/dev/null; then
  "$venv/bin/pip" install --disable-pip-version-check -q "transformers==$TRANSFORMERS_VERSION" >&2
fi
echo "$venv/bin/python"
