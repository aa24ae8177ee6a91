#!/usr/bin/env bash
# Installs everything nesgd needs from Debian 12's own packages, idempotently.
# Safe to run again: packages already present are skipped without touching apt.
# With NESGD_TORCH=pypi it also installs PyPI's torch (its LibTorch, with CUDA)
# into the git-ignored .venv-torch/ (scripts/torch_pypi.sh).
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev            # LibTorch 1.13 (CPU, with oneDNN)
  libopenblas0-pthread    # BLAS backend: pthread build (measured fastest robust setup: docs/PERFORMANCE.md)
  libcli11-dev nlohmann-json3-dev libfmt-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev libarchive-dev libsqlite3-dev
  libgloo-dev             # Gloo headers: data-parallel runs over c10d (--distributed)
  libgtest-dev libgmock-dev
  clang libclang-rt-dev   # fuzz targets (scripts/fuzz.sh): libFuzzer, ASan, UBSan
  gnuplot-nox             # figures (report)
  libexpat1-dev           # tests: SVG figures parse as XML
  dataset-fashion-mnist   # real Fashion-MNIST, offline
  python3-torch python3-numpy   # PyTorch-Python reference for the benchmark
  python3                 # local HTTP server in the download tests
  python3-venv            # .venv-torch/: PyPI's torch (NESGD_TORCH=pypi; the benchmark's current PyTorch)
  git ca-certificates
)

# shellcheck source=scripts/apt_ensure.sh
source "$(dirname "$0")/apt_ensure.sh"
apt_ensure setup "${PKGS[@]}"

# Route BLAS through OpenBLAS's pthread build, not the reference BLAS nor the
# OpenMP build (docs/PERFORMANCE.md, "Thread settings"). Measured for F1: with
# ATen at 1 thread and OpenBLAS at 2 it is within 5 % of the OpenMP build's best
# (ATen and BLAS at 2 in one pool) on an idle machine, and 8x faster than it
# when two runs share the cores, where the OpenMP workers' spinning starves the
# other process. Debian picks the provider with the alternatives system;
# LibTorch loads libblas.so.3 and liblapack.so.3, which load libopenblas.so.0,
# so all three links are set. Only links that point elsewhere are changed.
arch_dir=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for alt in "libblas.so.3-${arch_dir}" "liblapack.so.3-${arch_dir}" "libopenblas.so.0-${arch_dir}"; do
  target=$(update-alternatives --list "$alt" 2>/dev/null | grep openblas-pthread | head -1 || true)
  if [ -n "$target" ] && [ "$(readlink -f /etc/alternatives/$alt 2>/dev/null)" != "$(readlink -f "$target")" ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO update-alternatives --set "$alt" "$target" >/dev/null
  fi
done
case "${NESGD_TORCH:-debian}" in
  debian) ;;
  pypi) bash "$(dirname "$0")/torch_pypi.sh" ;;
  *) echo "setup: NESGD_TORCH must be debian or pypi, got '${NESGD_TORCH}'" >&2; exit 2 ;;
esac
echo "setup: all dependencies present" >&2
