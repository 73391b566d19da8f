#!/usr/bin/env bash
# Installs the Debian 12 packages seer needs to build, test and run.
# Idempotent and non-interactive: when every package is already installed it does nothing
# (no apt-get update, no network). Run as root (or with sudo available).
#
# Usage: scripts/install-deps.sh [--check]
#   --check   only report missing packages; exit 1 if any are missing.
set -euo pipefail

# One package per line, grouped by what needs it. Add what later components need here.
PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config
  # tensors and autograd
  libtorch-dev
  # learner ranks: data-parallel all-reduce over MPI
  libopenmpi-dev openmpi-bin
  # process contracts: reward, coordinator
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  # config, CLI, logging, JSON, metrics
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev prometheus-cpp-dev
  # tokenizer (regex splits, Unicode normalisation) and images
  libpcre2-dev libutf8proc-dev libstb-dev libexif-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "install-deps: missing: ${missing[*]}" >&2
  exit 1
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
