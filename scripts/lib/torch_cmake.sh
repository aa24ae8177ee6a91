# scripts/lib/torch_cmake.sh - CMake options for building nesgd against the
# LibTorch inside a Python torch installation (PyPI's wheel, conda's). Sourced
# by scripts/build.sh (NESGD_TORCH=pypi) and scripts/gpu_check.sh, so both
# builds take the same fixes.
#
#   torch_cmake_args PYTHON BUILD_DIR [FMT_INCLUDE_DIR]
#
# appends to the array TORCH_CMAKE_ARGS (declare it first) and sets
# TORCH_PREFIX (the folder to put on CMAKE_PREFIX_PATH; empty where the
# installation has no CMake files), TORCH_ABI (0 or 1, the wheel's
# std::string ABI) and TORCH_HAS_CUDA (0 or 1).
# It writes a header-only fmt package into BUILD_DIR/shim/fmt (see below);
# FMT_INCLUDE_DIR, if given, is where that fmt's headers are (else the
# compiler's default search path, e.g. Debian's libfmt-dev).
# Errors go to stderr and return 1.

write_fmt_shim() {  # DIR [INCLUDE_DIR]
  local dir=$1 inc=${2:-} props
  mkdir -p "$dir" || return 1
  props='INTERFACE_COMPILE_DEFINITIONS "FMT_HEADER_ONLY=1"'
  if [ -n "$inc" ]; then props="INTERFACE_INCLUDE_DIRECTORIES \"$inc\" $props"; fi
  cat > "$dir/fmt-config.cmake" <<CMAKE
# Header-only fmt (written by scripts/lib/torch_cmake.sh).
if(NOT TARGET fmt::fmt)
  add_library(fmt::fmt INTERFACE IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES $props)
endif()
set(fmt_FOUND TRUE)
CMAKE
  printf 'set(PACKAGE_VERSION 9.1.0)\nset(PACKAGE_VERSION_COMPATIBLE TRUE)\n' > "$dir/fmt-config-version.cmake"
}

torch_cmake_args() {  # PYTHON BUILD_DIR [FMT_INCLUDE_DIR]
  local py=$1 build_dir=$2 fmt_inc=${3:-} prefix include torchlib nvidia_dirs link_flags
  prefix=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)') || {
    echo "torch_cmake: $py cannot import torch" >&2; return 1; }
  include=$("$py" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "include"))')
  torchlib=$(dirname "$include")/lib
  TORCH_ABI=$("$py" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
  TORCH_HAS_CUDA=$("$py" -c 'import torch; print(int(torch.version.cuda is not None))')
  TORCH_PREFIX=$prefix
  if [ ! -e "$prefix/Torch/TorchConfig.cmake" ]; then
    TORCH_PREFIX=""
    # Debian's python3-torch has no CMake files there; CMake finds its libtorch-dev on its own.
    echo "torch_cmake: no TorchConfig.cmake under $prefix: letting CMake find LibTorch on its own" >&2
  fi
  # LibTorch's CMake config finds c10 with find_library, which looks in the
  # system folders first: where Debian's libtorch-dev is installed too it
  # would take that libc10.so (1.13). Name the wheel's.
  if [ -n "$TORCH_PREFIX" ] && [ -e "$torchlib/libc10.so" ]; then TORCH_CMAKE_ARGS+=("-Dc10_LIBRARY=$torchlib/libc10.so"); fi
  # The wheel's CUDA libraries (cuDNN, NCCL, cuBLAS, the CUDA runtime, ...)
  # come as pip packages beside it and may be newer than the toolkit's: the
  # linker resolves libtorch_cuda.so's dependencies there (-rpath-link), and
  # the programs load them from there first (-rpath before the toolkit's).
  nvidia_dirs=$(find "$(dirname "$(dirname "$include")")/nvidia" -mindepth 2 -maxdepth 2 -type d -name lib 2>/dev/null | sort | paste -sd: -)
  if [ -n "$nvidia_dirs" ]; then
    link_flags="-Wl,-rpath-link,$nvidia_dirs -Wl,-rpath,$nvidia_dirs"
    TORCH_CMAKE_ARGS+=("-DCMAKE_EXE_LINKER_FLAGS=$link_flags" "-DCMAKE_SHARED_LINKER_FLAGS=$link_flags")
  fi
  # Newer LibTorch headers demand C++20 ("C++20 or later compatible compiler is required").
  if grep -qs "C++20 or later" "$include/ATen/ATen.h" "$include/c10/util/C++17.h"; then
    TORCH_CMAKE_ARGS+=(-DCMAKE_CXX_STANDARD=20)
  fi
  # A wheel built with the pre-C++11 string ABI needs every target built with
  # it. The new ABI is GCC's default: say so only for the old one, so that an
  # existing build folder keeps its flags (and its objects).
  if [ "$TORCH_ABI" = 0 ]; then TORCH_CMAKE_ARGS+=("-DCMAKE_CXX_FLAGS=-D_GLIBCXX_USE_CXX11_ABI=0"); fi
  if [ "$TORCH_HAS_CUDA" = 1 ]; then
    # A CUDA LibTorch's CMake config looks for the toolkit (nvcc), and would
    # run a program on the GPU to pick architectures where none is named:
    # name them (Ampere, Hopper; override with TORCH_CUDA_ARCH_LIST). The
    # project has no .cu files of its own, so the list only has to be valid.
    if ! command -v nvcc >/dev/null 2>&1; then
      local d
      for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && { export PATH="$PATH:$d"; break; }; done
    fi
    command -v nvcc >/dev/null 2>&1 || { echo "torch_cmake: this torch has CUDA, but no nvcc is installed (the CUDA toolkit)" >&2; return 1; }
    export CUDACXX=${CUDACXX:-$(command -v nvcc)}
    # CMake before 3.26 knows no CUDA 20 dialect for nvcc.
    TORCH_CMAKE_ARGS+=("-DTORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-8.0;9.0}" -DCMAKE_CUDA_STANDARD=17)
  fi
  # The wheel bundles its own fmt headers (fmt 12 in torch 2.15), which shadow
  # the system's in every translation unit that includes LibTorch: use fmt
  # header-only throughout, so no TU needs symbols of a libfmt.so built from
  # another version.
  write_fmt_shim "$build_dir/shim/fmt" "$fmt_inc" || return 1
  TORCH_CMAKE_ARGS+=("-Dfmt_DIR=$build_dir/shim/fmt")
}
