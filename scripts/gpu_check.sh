#!/usr/bin/env bash
# scripts/gpu_check.sh - build, test and time nesgd on a CUDA GPU with PyTorch's LibTorch.
#
# On a machine with an NVIDIA GPU, CUDA, PyTorch (pip/conda, with its bundled
# LibTorch), CMake and ninja, from the repository root:
#
#   scripts/gpu_check.sh                 # everything; results under build-gpu/check/
#   scripts/gpu_check.sh --out DIR       # results (logs, JSON, summary.txt) under DIR
#
# Steps: (1) configure + build with CMake/ninja into build-gpu/ against the
# LibTorch of `python3 -c 'import torch; print(torch.utils.cmake_prefix_path)'`,
# (2) the C1 training step timed at B = 100, 500, 5000 for alpha = 1 and 2.5 on
# the GPU (nesgd_bench --model c1 --device cuda, beside bench/reference_conv.py
# --device cuda doing the identical step), (3) one C1 NE training run on the
# CIFAR-10 subset (--device cuda), then 300 steps of it eager, with
# --cuda-graph, in tf32 and in bf16, (4) the test suite (ctest; it includes the
# graphed-against-eager run test, which needs a GPU). Each step has
# its own time limit, and the figures come first, so that a leased machine's
# short time yields them even if the tests run long.
# It prints the card's name and writes every figure to build-gpu/check/ for
# docs/PERFORMANCE.md.
#
# Environment: NESGD_EXTRA_CMAKE_ARGS (more -D options), PYTHON (a python with torch), NESGD_DEPS_ROOT (default
# build-deps/root), NESGD_DATA_DIR (holding cifar-10-subset/),
# NESGD_GTEST_FROM_SOURCE=1 (build GoogleTest even where a system one exists).
#
# Options:
#   --cpu            skip everything that needs CUDA (checks this script on a CPU-only machine)
#   --tests REGEX    run only the ctest tests matching REGEX (default: all)
#   --skip-tests     do not run ctest
#   --configure-only stop after CMake's configure step (checks the dependency set-up)
#   --build-only     stop after the build (scripts/gpu_pack_study.sh builds this way)
#   --build-dir DIR  default build-gpu (git-ignored, like every build*/ folder)
#   --out DIR        where logs, JSON and summary.txt go (default BUILD_DIR/check)
#   --test-timeout S ctest's limit in seconds for the whole suite (default 420)
#
# Dependencies the GPU machine may lack. nesgd needs, besides LibTorch:
# CLI11, nlohmann-json, fmt (headers only here), zlib and OpenSSL headers,
# GoogleTest (for the tests); libcurl and libarchive are optional (without
# them `nesgd data fetch` cannot download/unpack, nothing else changes).
# Where the machine has no such packages and no network, prepare them once on
# a Debian 12 machine and carry the folder build-deps/ (git-ignored) along:
#
#   mkdir -p build-deps/debs && cd build-deps/debs
#   apt-get download libcli11-dev nlohmann-json3-dev libfmt-dev googletest zlib1g-dev libssl-dev
#   for f in *.deb; do dpkg -x "$f" ../root; done
#   cd ../.. && rm -rf build-deps/debs
#   rm -rf build-deps/root/usr/share/doc build-deps/root/usr/lib/*/*.a   # 22 MB -> 8 MB
#
# C++ standard: C++17, or C++20 where the LibTorch headers demand it (their
# ATen/ATen.h says "C++20 or later compatible compiler is required").
# nvcc is put on PATH from /usr/local/cuda*/bin if it is not there already
# (a CUDA LibTorch's CMake config looks for the CUDA toolkit).
#
# The script then uses build-deps/root (or $NESGD_DEPS_ROOT): CLI11 and
# nlohmann-json through their relocatable CMake configs; fmt through a
# header-only shim (FMT_HEADER_ONLY, so no libfmt.so built for another C++ ABI
# is linked); zlib/OpenSSL headers with the machine's own libz.so.1 and
# libcrypto.so.3; GoogleTest built here from the carried sources with the
# same C++ ABI as LibTorch. PyTorch's wheels may use the pre-C++11 std::string
# ABI: the script reads torch._C._GLIBCXX_USE_CXX11_ABI and builds every
# target (and GoogleTest) with it, or nesgd_core and nesgd_lib would not link.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
CPU_ONLY=0
TESTS_REGEX=""
SKIP_TESTS=0
CONFIGURE_ONLY=0
BUILD_ONLY=0
BUILD_DIR=build-gpu
CHECK_DIR=""
TEST_TIMEOUT=420
while [ $# -gt 0 ]; do
  case "$1" in
    --cpu) CPU_ONLY=1 ;;
    --tests) TESTS_REGEX="$2"; shift ;;
    --skip-tests) SKIP_TESTS=1 ;;
    --configure-only) CONFIGURE_ONLY=1 ;;
    --build-only) BUILD_ONLY=1 ;;
    --build-dir) BUILD_DIR="$2"; shift ;;
    --out) CHECK_DIR="$2"; shift ;;
    --test-timeout) TEST_TIMEOUT="$2"; shift ;;
    -h|--help) sed -n '2,60p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
# RES, not OUT: a leased machine's tooling uses $OUT for its own folder (pass --out "$OUT/check").
RES=${CHECK_DIR:-$BUILD_DIR/check}
mkdir -p "$RES"
RES=$(cd "$RES" && pwd)
log() { echo "gpu_check: $*" | tee -a "$RES/summary.txt" >&2; }
: > "$RES/summary.txt"

# --- Python with torch, LibTorch location, ABI, device -----------------------------------------
PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for p in python3 /usr/bin/python3 python; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import torch' >/dev/null 2>&1; then PYTHON=$p; break; fi
  done
fi
[ -n "$PYTHON" ] || { echo "gpu_check: no python with torch found (set PYTHON=...)" >&2; exit 1; }
log "python $PYTHON, torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
if [ "$CPU_ONLY" = 0 ]; then
  if ! "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    echo "gpu_check: torch sees no CUDA device (use --cpu to run the CPU parts only)" >&2
    exit 1
  fi
  CARD=$("$PYTHON" -c 'import torch; print(torch.cuda.get_device_name(0))')
  log "device: $CARD; $(nvidia-smi --query-gpu=driver_version,memory.total --format=csv,noheader 2>/dev/null || true)"
fi

# --- dependencies: the machine's, else the carried build-deps/root -------------------------------
DEPS=${NESGD_DEPS_ROOT:-$ROOT/build-deps/root}
CMAKE_ARGS=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
# LibTorch's own options (its CMake prefix, c10, the CUDA libraries' rpath,
# C++20 where its headers demand it, its std::string ABI, CUDA architectures,
# nvcc, header-only fmt, from the carried headers where there are some):
# the same as scripts/build.sh's, in scripts/lib/torch_cmake.sh.
# shellcheck source=lib/torch_cmake.sh
. "$ROOT/scripts/lib/torch_cmake.sh"
TORCH_CMAKE_ARGS=()
FMT_INCLUDE=""
[ -d "$DEPS/usr/include/fmt" ] && FMT_INCLUDE="$DEPS/usr/include"
torch_cmake_args "$PYTHON" "$ROOT/$BUILD_DIR" "$FMT_INCLUDE" || exit 1
CMAKE_ARGS+=("${TORCH_CMAKE_ARGS[@]}")
ABI=$TORCH_ABI
ABI_FLAGS=""
[ "$ABI" = 0 ] && ABI_FLAGS="-D_GLIBCXX_USE_CXX11_ABI=0"
log "C++ ABI $ABI; LibTorch options: ${TORCH_CMAKE_ARGS[*]}"
[ -z "$TORCH_PREFIX" ] && log "no TorchConfig.cmake beside this torch: letting CMake find LibTorch on its own"
PREFIXES=()
[ -n "$TORCH_PREFIX" ] && PREFIXES+=("$TORCH_PREFIX")
# More CMake options from the caller, e.g. NESGD_EXTRA_CMAKE_ARGS="-DNESGD_NCCL=ON" or
# "-DNESGD_DISTRIBUTED=OFF" (scripts/gpu_pack_study.sh: the study needs no c10d).
read -r -a extra_cmake_args <<< "${NESGD_EXTRA_CMAKE_ARGS:-}"
CMAKE_ARGS+=("${extra_cmake_args[@]}")
if command -v nvcc >/dev/null 2>&1; then log "nvcc: $(nvcc --version | tail -1)"; fi
multiarch=$(gcc -print-multiarch 2>/dev/null || true)
multiarch=${multiarch:-x86_64-linux-gnu}
have_header() {
  for d in /usr/include "/usr/include/$multiarch" /usr/local/include "${CONDA_PREFIX:-/nonexistent}/include"; do
    [ -e "$d/$1" ] && return 0
  done
  return 1
}
find_lib() { for d in "/usr/lib/$multiarch" "/lib/$multiarch" /usr/lib64 /usr/lib /usr/local/lib; do [ -e "$d/$1" ] && { echo "$d/$1"; return 0; }; done; return 1; }

if [ -d "$DEPS/usr" ]; then
  log "carried dependencies in $DEPS"
  [ -d "$DEPS/usr/share/cmake/CLI11" ] && CMAKE_ARGS+=("-DCLI11_DIR=$DEPS/usr/share/cmake/CLI11")
  [ -d "$DEPS/usr/share/cmake/nlohmann_json" ] && CMAKE_ARGS+=("-Dnlohmann_json_DIR=$DEPS/usr/share/cmake/nlohmann_json")
  if ! have_header zlib.h && [ -e "$DEPS/usr/include/zlib.h" ]; then
    CMAKE_ARGS+=("-DZLIB_INCLUDE_DIR=$DEPS/usr/include" "-DZLIB_LIBRARY=$(find_lib libz.so.1 || echo libz.so.1-not-found)")
  fi
  if ! have_header openssl/evp.h && [ -e "$DEPS/usr/include/openssl/evp.h" ]; then
    CMAKE_ARGS+=("-DOPENSSL_INCLUDE_DIR=$DEPS/usr/include;$DEPS/usr/include/$multiarch"
                 "-DOPENSSL_CRYPTO_LIBRARY=$(find_lib libcrypto.so.3 || echo libcrypto.so.3-not-found)")
  fi
fi
have_header curl/curl.h || { CMAKE_ARGS+=(-DNESGD_WITH_DOWNLOAD=OFF); log "no libcurl headers: building without download"; }
have_header archive.h || log "no libarchive headers: building without archive extraction"

# GoogleTest: a system build (compiled with GCC's default, the new ABI) where
# LibTorch uses that ABI too; else built here from carried or system sources
# with LibTorch's ABI; else no tests.
GTEST_SRC=""
for d in "$DEPS/usr/src/googletest" /usr/src/googletest; do [ -f "$d/CMakeLists.txt" ] && { GTEST_SRC=$d; break; }; done
if [ "$ABI" = 1 ] && [ "${NESGD_GTEST_FROM_SOURCE:-0}" != 1 ] && find_lib libgtest.a >/dev/null; then
  log "GoogleTest: the system's ($(find_lib libgtest.a))"
elif [ -n "$GTEST_SRC" ]; then
  GTEST_PREFIX="$ROOT/$BUILD_DIR/gtest-abi$ABI"
  if [ ! -e "$GTEST_PREFIX/.done" ]; then
    log "building GoogleTest from $GTEST_SRC with ABI $ABI"
    cmake -S "$GTEST_SRC" -B "$BUILD_DIR/gtest-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      "-DCMAKE_CXX_FLAGS=$ABI_FLAGS" -DCMAKE_INSTALL_PREFIX="$GTEST_PREFIX" \
      -DCMAKE_POSITION_INDEPENDENT_CODE=ON > "$RES/gtest-build.log" 2>&1
    cmake --build "$BUILD_DIR/gtest-build" --target install >> "$RES/gtest-build.log" 2>&1
    touch "$GTEST_PREFIX/.done"
  fi
  PREFIXES=("$GTEST_PREFIX" "${PREFIXES[@]}")
else
  log "no usable GoogleTest (sources or a new-ABI system build): building without tests"
  CMAKE_ARGS+=(-DNESGD_BUILD_TESTS=OFF)
  SKIP_TESTS=1
fi
if [ ${#PREFIXES[@]} -gt 0 ]; then
  CMAKE_ARGS+=("-DCMAKE_PREFIX_PATH=$(IFS=';'; echo "${PREFIXES[*]}")")
fi

# --- (1) build ---------------------------------------------------------------------------------
log "configure: cmake ${CMAKE_ARGS[*]}"
cmake -S . -B "$BUILD_DIR" "${CMAKE_ARGS[@]}" > "$RES/configure.log" 2>&1 || { tail -30 "$RES/configure.log"; exit 1; }
[ "$CONFIGURE_ONLY" = 1 ] && { log "--configure-only: configured $BUILD_DIR"; exit 0; }
t0=$(date +%s)
# Keep going past a failing target (ninja -k 0), so that one test file that
# does not compile against this LibTorch does not cost the timings.
if cmake --build "$BUILD_DIR" -- -k 0 > "$RES/build.log" 2>&1; then
  log "build: ok in $(( $(date +%s) - t0 )) s"
else
  log "build: FAILED in $(( $(date +%s) - t0 )) s; first errors:"
  grep -E -m 20 'error:|Error ' "$RES/build.log" | tee -a "$RES/summary.txt" >&2 || true
  [ -x "$BUILD_DIR/nesgd" ] && [ -x "$BUILD_DIR/nesgd_bench" ] || { tail -40 "$RES/build.log"; exit 1; }
  log "nesgd and nesgd_bench were built: going on"
fi
[ "$BUILD_ONLY" = 1 ] && { log "--build-only: built $BUILD_DIR"; exit 0; }

if [ "$CPU_ONLY" = 0 ]; then
# --- (2) C1 step timings on the GPU, nesgd beside PyTorch-Python -------------------------------
STEP_ARGS=(--batch-sizes 100,500,5000 --alphas 1,2.5 --repeats 5 --min-block-seconds 0.5 --warmup-seconds 0.5)
t0=$(date +%s)
if timeout 240 "$BUILD_DIR/nesgd_bench" --model c1 --device cuda "${STEP_ARGS[@]}" --json "$RES/c1_gpu_nesgd.json" \
    > "$RES/c1_gpu_nesgd.md" 2> "$RES/c1_gpu_nesgd.log"; then
  log "nesgd C1 step timings on $CARD ($(( $(date +%s) - t0 )) s):"
  cat "$RES/c1_gpu_nesgd.md" >&2
else
  log "nesgd_bench --device cuda FAILED (rc $?); see c1_gpu_nesgd.log"; tail -20 "$RES/c1_gpu_nesgd.log" >&2
fi
t0=$(date +%s)
if timeout 240 "$PYTHON" bench/reference_conv.py --model c1 --device cuda "${STEP_ARGS[@]}" --thread-options 1 \
    --json "$RES/c1_gpu_pytorch.json" > "$RES/c1_gpu_pytorch.md" 2> "$RES/c1_gpu_pytorch.log"; then
  log "PyTorch-Python C1 step timings on $CARD ($(( $(date +%s) - t0 )) s):"
  cat "$RES/c1_gpu_pytorch.md" >&2
else
  log "reference_conv.py --device cuda FAILED (rc $?); see c1_gpu_pytorch.log"; tail -20 "$RES/c1_gpu_pytorch.log" >&2
fi

# (2b) F1 NE steps at B = 100 and 1000, the joint pass (one forward and backward over [B; B'])
# against the split pass (one per batch), timed block by block in one process: steps per second.
if timeout 180 "$BUILD_DIR/nesgd_bench" --model f1 --device cuda --batch-sizes 100,1000 --alphas 1,1.5 --repeats 5 \
    --min-block-seconds 0.5 --warmup-seconds 0.5 --compare-passes --json "$RES/f1_gpu_passes.json" \
    > "$RES/f1_gpu_passes.md" 2> "$RES/f1_gpu_passes.log"; then
  log "nesgd F1 steps on $CARD, joint against split NE pass:"
  cat "$RES/f1_gpu_passes.md" >&2
else
  log "nesgd_bench F1 --compare-passes FAILED (rc $?); see f1_gpu_passes.log"; tail -20 "$RES/f1_gpu_passes.log" >&2
fi

# --- (3) one C1 NE run on the CIFAR-10 subset --------------------------------------------------
DATA=""
for d in "${NESGD_DATA_DIR:-/nonexistent}" "$ROOT/../shared/data" "$ROOT/shared/data"; do
  [ -f "$d/cifar-10-subset/data_batch_1.bin" ] && { DATA=$d; break; }
done
if [ -n "$DATA" ]; then
  t0=$(date +%s)
  if timeout 240 "$BUILD_DIR/nesgd" train --model c1 --dataset cifar10-subset --data-dir "$DATA" --offline \
      --device cuda --batch-size 500 --alpha 2.5 --seed 1 --max-iterations 3000 --out "$RES/c1_ne_subset.json" \
      > "$RES/c1_ne_subset.log" 2>&1; then
    log "C1 NE run (subset, B=500, alpha=2.5, cuda, $(( $(date +%s) - t0 )) s): $("$PYTHON" - "$RES/c1_ne_subset.json" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
print(f"{j['status']} after {j['iterations']} iterations, test accuracy {100 * j['test_accuracy']:.2f}%, "
      f"{j['samples_per_second']:.0f} samples/s, {j['wall_seconds']:.1f} s, device_name {j['environment']['device_name']}")
EOF
)"
  else
    log "C1 NE run on cuda FAILED (rc $?); see c1_ne_subset.log"; tail -20 "$RES/c1_ne_subset.log" >&2
  fi
  # (3b) the same run for 300 steps, eager against --cuda-graph, and in tf32 and bf16:
  # samples/s of the training steps and the loss reached (what graphs and precision save or change).
  for variant in eager cuda-graph tf32 bf16 bf16+cuda-graph; do
    extra=()
    case "$variant" in
      cuda-graph) extra=(--cuda-graph) ;;
      tf32) extra=(--precision tf32) ;;
      bf16) extra=(--precision bf16) ;;
      bf16+cuda-graph) extra=(--precision bf16 --cuda-graph) ;;
    esac
    if timeout 120 "$BUILD_DIR/nesgd" train --model c1 --dataset cifar10-subset --data-dir "$DATA" --offline \
        --device cuda --batch-size 500 --alpha 2.5 --seed 1 --max-iterations 300 "${extra[@]}" \
        --out "$RES/c1_300_$variant.json" > "$RES/c1_300_$variant.log" 2>&1; then
      log "C1 300 steps, $variant: $("$PYTHON" -c 'import json, sys
j = json.load(open(sys.argv[1]))
print("%.0f samples/s, training loss %.4f, test accuracy %.2f%%, %.1f s" % (j["samples_per_second"], j["train_loss"], 100 * j["test_accuracy"], j["wall_seconds"]))' "$RES/c1_300_$variant.json")"
    else
      log "C1 300 steps, $variant: FAILED (rc $?); see c1_300_$variant.log"; tail -5 "$RES/c1_300_$variant.log" >&2
    fi
  done
else
  log "no cifar-10-subset found (NESGD_DATA_DIR, ../shared/data, shared/data): skipping the training run"
fi
fi

# --- (4) tests ---------------------------------------------------------------------------------
if [ "$SKIP_TESTS" = 0 ]; then
  t0=$(date +%s)
  ctest_args=(--test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" --timeout 300)
  [ -n "$TESTS_REGEX" ] && ctest_args+=(-R "$TESTS_REGEX")
  if timeout "$TEST_TIMEOUT" ctest "${ctest_args[@]}" > "$RES/ctest.log" 2>&1; then
    log "tests: $(grep -E 'tests passed' "$RES/ctest.log" | tail -1) in $(( $(date +%s) - t0 )) s"
  else
    log "tests: FAILED or cut off after $(( $(date +%s) - t0 )) s ($(grep -E 'tests passed|tests failed' "$RES/ctest.log" | tail -1)); see ctest.log"
    grep -E '^\s+[0-9]+ - |\*\*\*Failed|Timeout' "$RES/ctest.log" | tee -a "$RES/summary.txt" >&2 || true
  fi
fi
log "done; figures in $RES (summary.txt, c1_gpu_*.md/json, c1_ne_subset.json) for docs/PERFORMANCE.md"
