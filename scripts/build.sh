#!/usr/bin/env bash
# Configures and builds nesgd into build/ (Release, Ninja). Idempotent and
# incremental: a second run only rebuilds what changed.
# Usage: scripts/build.sh [extra cmake -D options...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
fi
cmake --build build -j"$(nproc)"
