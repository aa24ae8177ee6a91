#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing,
# builds, runs every test through CTest, then every fuzz target for a few
# seconds (replaying its seeds and past crash inputs first). Used by .ci/run.
#   NESGD_FUZZ_SECONDS=N   seconds per fuzz target (default 10; 0 skips fuzzing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup.sh
bash scripts/build.sh
cd build
# Tests that need real data find ../shared/data beside the checkout, else
# Debian's dataset-fashion-mnist (installed by setup.sh); without either they
# skip and say how to provide it. Install.OwnLoopExample installs nesgd into
# build/install-test/prefix and builds and runs examples/own_loop against it.
ctest --output-on-failure -j"$(nproc)" --timeout 900
cd "$here"
# Any crash, leak, hang or oversized allocation a fuzzer finds fails the run.
fuzz_seconds=${NESGD_FUZZ_SECONDS:-10}
if [ "$fuzz_seconds" -gt 0 ]; then
  NESGD_FUZZ_NICE=${NESGD_FUZZ_NICE:-0} bash scripts/fuzz.sh "$fuzz_seconds"
fi
