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
  # tensors and autograd; a fast BLAS for LibTorch's fp32 matmuls (Debian's LibTorch links libblas.so.3,
  # which is the ~4 GFLOP/s reference BLAS unless OpenBLAS provides it). The OpenMP variant only: the
  # pthread variant ignores LibTorch's thread setting (see "BLAS alternative" below).
  libtorch-dev libopenblas0-openmp
  # learner ranks: data-parallel all-reduce over MPI
  libopenmpi-dev openmpi-bin
  # process contracts: reward, coordinator
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  # config, CLI, logging, JSON, metrics
  libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev prometheus-cpp-dev
  # tokenizer (regex splits, Unicode normalisation) and images
  libpcre2-dev libutf8proc-dev libstb-dev libexif-dev
  # JPEG as Pillow decodes it: libjpeg-turbo (PNG/BMP/GIF stay on stb)
  libjpeg62-turbo-dev
  # gzip data sets (digits.csv.gz, Fashion-MNIST IDX files)
  zlib1g-dev
  # tests and benchmarks; the Prometheus scrape test; the quickstart's reward/accuracy plot
  libgtest-dev libgmock-dev libbenchmark-dev prometheus gnuplot-nox
  # the single-node Slurm test of deploy/slurm/seer.sbatch
  slurm-wlm munge
  openssl iproute2   # tests/e2e/tls_test.sh: a throwaway CA, network namespaces
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

# BLAS alternative: libblas.so.3 must be OpenBLAS's OpenMP build. libopenblas0-pthread, if some other
# package pulled it in, has a higher priority and would win in auto mode.
BLAS_LINK=libblas.so.3-x86_64-linux-gnu
BLAS_OPENMP=/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3
blas_ok() { [[ "$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null)" == "$(readlink -f "$BLAS_OPENMP" 2>/dev/null)" ]]; }
set_blas() {
  blas_ok && return 0
  echo "install-deps: selecting OpenBLAS (OpenMP) as libblas.so.3"
  $SUDO update-alternatives --set "$BLAS_LINK" "$BLAS_OPENMP"
}

# The handwritten digits (UCI optical digits) ship inside python3-sklearn; seer needs only that one file,
# so it is extracted from the package's .deb instead of installing scikit-learn and its 40 dependencies.
SKLEARN_DIGITS=/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz
SEER_DIGITS=/usr/local/share/seer/datasets/digits.csv.gz
need_digits=0
[[ -f "$SKLEARN_DIGITS" || -f "$SEER_DIGITS" ]] || need_digits=1

if [[ ${#missing[@]} -eq 0 && $need_digits -eq 0 ]] && blas_ok; then
  echo "install-deps: all ${#PACKAGES[@]} packages and the digits data present; libblas.so.3 is OpenBLAS (OpenMP)"
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  [[ ${#missing[@]} -eq 0 ]] || echo "install-deps: missing packages: ${missing[*]}" >&2
  [[ $need_digits -eq 0 ]] || echo "install-deps: missing $SEER_DIGITS" >&2
  blas_ok || echo "install-deps: libblas.so.3 is not OpenBLAS's OpenMP build" >&2
  exit 1
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
if [[ ${#missing[@]} -gt 0 || $need_digits -eq 1 ]]; then
  $SUDO apt-get update -q
fi
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
set_blas
if [[ $need_digits -eq 1 ]]; then
  echo "install-deps: extracting digits.csv.gz from Debian's python3-sklearn package"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  chmod 755 "$tmp"  # apt downloads as _apt when it can write there
  (cd "$tmp" && apt-get download -q python3-sklearn >/dev/null)
  dpkg-deb --fsys-tarfile "$tmp"/python3-sklearn_*.deb | tar -x -C "$tmp" ".$SKLEARN_DIGITS"
  $SUDO install -D -m 644 "$tmp$SKLEARN_DIGITS" "$SEER_DIGITS"
fi
echo "install-deps: done"
