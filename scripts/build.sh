#!/usr/bin/env bash
# Configures and builds nesgd (Release, Ninja). Idempotent and incremental: a
# second run only rebuilds what changed.
# Usage: scripts/build.sh [extra cmake -D options...]
#   NESGD_TARGETS="nesgd_cli ..."  build only these targets (default: all; the
#                       main job builds only the CLI, the test command everything)
#   NESGD_TORCH=debian  (default) Debian's libtorch-dev 1.13 (CPU), into build/
#   NESGD_TORCH=pypi    the LibTorch inside PyPI's torch wheel (CUDA-enabled) in
#                       .venv-torch/ (scripts/torch_pypi.sh), into build-pypi/;
#                       every CUDA code path (NCCL, the CUDA device paths) is
#                       compiled and linked with the machine's nvcc
#   NESGD_BUILD_DIR     another build folder
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
torch=${NESGD_TORCH:-debian}
args=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
case "$torch" in
  debian) dir=${NESGD_BUILD_DIR:-build} ;;
  pypi)
    dir=${NESGD_BUILD_DIR:-build-pypi}
    py=${NESGD_VENV:-$here/.venv-torch}/bin/python
    [ -x "$py" ] || { echo "build.sh: no $py: run NESGD_TORCH=pypi scripts/setup.sh first" >&2; exit 1; }
    # The wheel's CMake options (c10, the CUDA libraries' rpath, C++20, the
    # string ABI, CUDA architectures, header-only fmt): scripts/lib/torch_cmake.sh.
    # shellcheck source=lib/torch_cmake.sh
    . "$here/scripts/lib/torch_cmake.sh"
    TORCH_CMAKE_ARGS=()
    torch_cmake_args "$py" "$here/$dir"
    args+=("-DCMAKE_PREFIX_PATH=$TORCH_PREFIX" "${TORCH_CMAKE_ARGS[@]}")
    # Every CUDA code path (NCCL, the CUDA device paths) is compiled and linked.
    if [ "$TORCH_HAS_CUDA" = 1 ]; then args+=(-DNESGD_NCCL=ON); fi
    ;;
  *) echo "build.sh: NESGD_TORCH must be debian or pypi, got '$torch'" >&2; exit 2 ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" "${args[@]}" "$@" >/dev/null
fi
targets=()
for t in ${NESGD_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$dir" -j"$(nproc)" "${targets[@]}"
