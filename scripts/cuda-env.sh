#!/usr/bin/env bash
# The CUDA LibTorch for seer's GPU build: a pinned `torch` wheel from PyPI (CUDA 13, with its NVIDIA runtime
# wheels: cuBLAS, cuDNN, NCCL, ...) in a project-local virtual environment, .venv-cuda/ (never system-wide).
# The wheel carries LibTorch's headers, libraries and share/cmake/Torch; seer links against them and never
# runs Python. The wheels are kept in SEER_WHEEL_CACHE (default ~/.cache/seer/wheels, about 3.5 GB), so a
# second environment on the same machine (a CI run on a fresh clone) downloads nothing.
# Usage: scripts/cuda-env.sh            creates/updates .venv-cuda, prints the LibTorch folder (SEER_LIBTORCH)
#        SEER_CUDA_VENV=DIR scripts/cuda-env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_VERSION=2.15.0   # CUDA 13.x wheels on PyPI; bump together with the README's GPU section
venv=${SEER_CUDA_VENV:-.venv-cuda}
python=${PYTHON:-python3}

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' else 1)" 2>/dev/null; then
  cache=${SEER_WHEEL_CACHE:-$HOME/.cache/seer/wheels}
  mkdir -p "$cache"
  start=$(date +%s)
  # Files already in the cache are not downloaded again; the install then reads only the cache.
  "$venv/bin/pip" download --disable-pip-version-check --quiet -d "$cache" "torch==$TORCH_VERSION"
  fetched=$(date +%s)
  "$venv/bin/pip" install --disable-pip-version-check --quiet --no-index --find-links "$cache" "torch==$TORCH_VERSION"
  echo "cuda-env: torch $TORCH_VERSION into $venv: $(( fetched - start )) s download/check, $(( $(date +%s) - fetched )) s install" >&2
fi
# Where CMake finds LibTorch, without importing torch (which would need a GPU driver for nothing).
site=$("$venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
[ -f "$site/torch/share/cmake/Torch/TorchConfig.cmake" ] || { echo "cuda-env: $site/torch has no share/cmake/Torch" >&2; exit 1; }
echo "$site/torch"
