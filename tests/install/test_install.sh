#!/usr/bin/env bash
# The installed package, used the way another project uses it (ctest
# Install.OwnLoopExample): installs the build into a prefix inside the build
# folder, builds examples/own_loop against it as a project of its own and runs
# it for a few hundred steps (it exits non-zero unless its loss falls and its
# test accuracy reaches 90 %), then builds a torch-free program against
# nesgd::core alone with LibTorch hidden from CMake.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR ARGS_FILE
#   ARGS_FILE: extra cmake arguments for the example, one per line (the
#   generator, compiler, C++ standard and dependency folders of the build).
set -euo pipefail
build=$1
source=$2
mapfile -t args < "$3"
work=$build/install-test
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"
start=$SECONDS

cmake --install "$build" --prefix "$prefix" > "$work/install.log"
config=$(find "$prefix" -name nesgdConfig.cmake -print -quit)
[ -n "$config" ] || { echo "FAIL: no nesgdConfig.cmake under $prefix"; exit 1; }
for f in nesgdConfigVersion.cmake nesgd-targets.cmake nesgd-core-targets.cmake; do
  [ -f "$(dirname "$config")/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
[ -f "$prefix/include/nesgd/optim/noise_enhancement.h" ] || { echo "FAIL: headers not installed"; exit 1; }
[ -x "$prefix/bin/nesgd" ] || { echo "FAIL: CLI not installed"; exit 1; }

prefix_path="$prefix"
for a in "${args[@]}"; do
  case $a in -DCMAKE_PREFIX_PATH=*) prefix_path="$prefix;${a#-DCMAKE_PREFIX_PATH=}" ;; esac
done
own=()
for a in "${args[@]}"; do
  case $a in -DCMAKE_PREFIX_PATH=*) ;; *) own+=("$a") ;; esac
done

echo "== examples/own_loop against $prefix"
cmake -S "$source/examples/own_loop" -B "$work/own_loop" "${own[@]}" "-DCMAKE_PREFIX_PATH=$prefix_path"
cmake --build "$work/own_loop"
"$work/own_loop/own_loop" --steps 300

echo "== nesgd::core alone, without LibTorch"
mkdir -p "$work/core_only/src"
cat > "$work/core_only/src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.18)
project(core_only LANGUAGES CXX)
set(CMAKE_DISABLE_FIND_PACKAGE_Torch ON)
find_package(nesgd CONFIG REQUIRED COMPONENTS core)
if(TARGET nesgd::nesgd OR TARGET torch)
  message(FATAL_ERROR "COMPONENTS core must not load the torch part")
endif()
add_executable(core_only main.cpp)
target_link_libraries(core_only PRIVATE nesgd::core)
CMAKE
cat > "$work/core_only/src/main.cpp" <<'CPP'
#include <cstdio>
#include "nesgd/data/batch_stream.h"
#include "nesgd/data/registry.h"
int main() {
  nesgd::data::BatchStream s(10, 5, nesgd::data::derive_seed(1, nesgd::data::kStreamB), nesgd::data::Sampling::kEpoch);
  const auto& b = s.next();
  std::printf("core_only: %zu datasets registered, first batch of %zu indices\n",
              nesgd::data::registered_datasets().size(), b.size());
  return b.size() == 5 ? 0 : 1;
}
CPP
cmake -S "$work/core_only/src" -B "$work/core_only/build" --no-warn-unused-cli "${own[@]}" "-DCMAKE_PREFIX_PATH=$prefix_path" \
  > "$work/core_only/configure.log" 2>&1
cmake --build "$work/core_only/build" > "$work/core_only/build.log"
"$work/core_only/build/core_only"
echo "install test: PASS in $((SECONDS - start)) s"
