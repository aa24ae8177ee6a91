#!/usr/bin/env bash
# The whole test suite on a fresh Debian 12 machine: installs what is missing,
# builds, runs every test through CTest. Used by .ci/run.
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
