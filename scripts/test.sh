#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing,
# builds, runs every test through CTest against each LibTorch (Debian's 1.13 in
# build/, then PyPI's current CUDA-enabled one in build-pypi/, whose CUDA code
# paths are compiled and linked with nvcc), then every fuzz target for a few
# seconds (replaying its seeds and past crash inputs first). Used by .ci/run.
#   NESGD_TEST_TORCH=debian,pypi  which LibTorch builds to test (default both)
#   NESGD_FUZZ_SECONDS=N          seconds per fuzz target (default 10; 0 skips fuzzing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
# Tests that need real data find ../shared/data beside the checkout, else
# Debian's dataset-fashion-mnist (installed by setup.sh); without either they
# skip and say how to provide it. Install.OwnLoopExample installs nesgd into
# <build>/install-test/prefix and builds and runs examples/own_loop against it.
# shellcheck source=lib/openblas.sh
. scripts/lib/openblas.sh
IFS=, read -r -a torches <<< "${NESGD_TEST_TORCH:-debian,pypi}"
for torch in "${torches[@]}"; do
  case "$torch" in
    debian) dir=build ;;
    pypi) dir=build-pypi ;;
    *) echo "test.sh: NESGD_TEST_TORCH takes debian and/or pypi, got '$torch'" >&2; exit 2 ;;
  esac
  echo "== test.sh: LibTorch from $torch, in $dir/" >&2
  NESGD_TORCH=$torch bash scripts/setup.sh
  NESGD_TORCH=$torch bash scripts/build.sh
  openblas_coretype "$dir/nesgd"   # AVX2 kernels where OpenBLAS did not recognize the CPU
  (cd "$dir" && ctest --output-on-failure -j"$(nproc)" --timeout 900)
done
# Any crash, leak, hang or oversized allocation a fuzzer finds fails the run.
fuzz_seconds=${NESGD_FUZZ_SECONDS:-10}
if [ "$fuzz_seconds" -gt 0 ]; then
  NESGD_FUZZ_NICE=${NESGD_FUZZ_NICE:-0} bash scripts/fuzz.sh "$fuzz_seconds"
fi
