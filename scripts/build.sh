#!/usr/bin/env bash
# Configures and builds nesgd (Release, Ninja). Idempotent and incremental: a
# second run only rebuilds what changed.
# Usage: scripts/build.sh [extra cmake -D options...]
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
    prefix=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')
    include=$("$py" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "include"))')
    torchlib=$(dirname "$include")/lib
    # LibTorch's CMake config finds c10 with find_library, which looks in the
    # system folders first: where Debian's libtorch-dev is installed too it
    # would take that libc10.so (1.13). Name the wheel's.
    args+=("-DCMAKE_PREFIX_PATH=$prefix" "-Dc10_LIBRARY=$torchlib/libc10.so")
    # The wheel's CUDA libraries (cuDNN, NCCL, cuBLAS, the CUDA runtime, ...)
    # come as pip packages beside it and are newer than the toolkit's: the
    # linker resolves libtorch_cuda.so's dependencies there (-rpath-link), and
    # the programs load them from there first (-rpath before the toolkit's).
    nvidia_dirs=$(find "$(dirname "$(dirname "$include")")/nvidia" -mindepth 2 -maxdepth 2 -type d -name lib 2>/dev/null | sort | paste -sd: -)
    if [ -n "$nvidia_dirs" ]; then
      link_flags="-Wl,-rpath-link,$nvidia_dirs -Wl,-rpath,$nvidia_dirs"
      args+=("-DCMAKE_EXE_LINKER_FLAGS=$link_flags" "-DCMAKE_SHARED_LINKER_FLAGS=$link_flags")
    fi
    # Newer LibTorch headers demand C++20 ("C++20 or later compatible compiler is required").
    if grep -qs "C++20 or later" "$include/ATen/ATen.h" "$include/c10/util/C++17.h"; then
      args+=(-DCMAKE_CXX_STANDARD=20)
    fi
    # A wheel built with the pre-C++11 string ABI needs every target built with it.
    if [ "$("$py" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')" = 0 ]; then
      args+=("-DCMAKE_CXX_FLAGS=-D_GLIBCXX_USE_CXX11_ABI=0")
    fi
    if [ "$("$py" -c 'import torch; print(int(torch.version.cuda is not None))')" = 1 ]; then
      # A CUDA LibTorch's CMake config looks for the toolkit (nvcc), and would
      # run a program on the GPU to pick architectures where none is named:
      # name them (Ampere, Hopper; override with TORCH_CUDA_ARCH_LIST).
      if ! command -v nvcc >/dev/null 2>&1; then
        for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && { export PATH="$PATH:$d"; break; }; done
      fi
      command -v nvcc >/dev/null 2>&1 || { echo "build.sh: this torch has CUDA, but no nvcc is installed (the CUDA toolkit)" >&2; exit 1; }
      export CUDACXX=${CUDACXX:-$(command -v nvcc)}
      # CMake 3.25 knows no CUDA 20 dialect for nvcc; the project has no .cu files of its own.
      args+=("-DTORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-8.0;9.0}" -DCMAKE_CUDA_STANDARD=17 -DNESGD_NCCL=ON)
    fi
    # The wheel bundles fmt 12's headers, which shadow Debian's fmt 9 in every
    # translation unit that includes LibTorch: use fmt header-only throughout,
    # so no TU needs symbols of a libfmt.so built from another version.
    shim=$here/$dir/shim/fmt
    mkdir -p "$shim"
    cat > "$shim/fmt-config.cmake" <<'CMAKE'
# Header-only fmt (written by scripts/build.sh for NESGD_TORCH=pypi).
if(NOT TARGET fmt::fmt)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES INTERFACE_COMPILE_DEFINITIONS "FMT_HEADER_ONLY=1")
endif()
set(fmt_FOUND TRUE)
CMAKE
    echo 'set(PACKAGE_VERSION 9.1.0)
set(PACKAGE_VERSION_COMPATIBLE TRUE)' > "$shim/fmt-config-version.cmake"
    args+=("-Dfmt_DIR=$shim")
    ;;
  *) echo "build.sh: NESGD_TORCH must be debian or pypi, got '$torch'" >&2; exit 2 ;;
esac
if [ ! -f "$dir/build.ninja" ]; then
  cmake -S . -B "$dir" "${args[@]}" "$@" >/dev/null
fi
cmake --build "$dir" -j"$(nproc)"
