#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, one per reader of outside bytes) with
# clang, AddressSanitizer and UndefinedBehaviorSanitizer into build-fuzz/, then
# runs each for SECONDS (default 60), one after the other, and prints the
# executions per target. Exits non-zero if any target found a crash, a leak,
# a hang (an input taking over 10 s) or an allocation over 512 MB; the input is
# saved under build-fuzz/artifacts/<target>/. docs/FUZZING.md explains more.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]      (targets: see fuzz/CMakeLists.txt)
#   NESGD_FUZZ_NICE=N   niceness of the fuzzers (default 19: they yield to everything else)
#
# Installs clang, its fuzzer runtime and the torch-free library's packages
# through apt if missing (idempotent: nothing happens when all are present).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

seconds=${1:-60}
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
nice_level=${NESGD_FUZZ_NICE:-19}

# --- packages -------------------------------------------------------------------------------------
PKGS=(
  clang libclang-rt-dev   # libFuzzer and the sanitizer runtimes (Debian 12: clang 14)
  cmake ninja-build
  zlib1g-dev libssl-dev nlohmann-json3-dev libfmt-dev libarchive-dev
)
# shellcheck source=scripts/apt_ensure.sh
source "$here/scripts/apt_ensure.sh"
apt_ensure fuzz "${PKGS[@]}"

# --- build ----------------------------------------------------------------------------------------
build=build-fuzz
start_build=$(date +%s)
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DNESGD_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
cmake --build "$build" -j"$(nproc)"
echo "fuzz: built in $(( $(date +%s) - start_build )) s" >&2

all_targets=$(sed -n 's/^nesgd_fuzz_target(\([a-z_0-9]*\))$/\1/p' fuzz/CMakeLists.txt)
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  read -r -a targets <<< "$(echo $all_targets)"
fi

# Longest input per target: the seeds' formats need room (a CIFAR record is
# 3073 bytes, a stream state in a checkpoint ~7 kB, a plain tar 20 kB).
max_len() {
  case "$1" in
    archive) echo 32768 ;;
    checkpoint) echo 16384 ;;
    cifar) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

# --- run ------------------------------------------------------------------------------------------
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
summary="$build/fuzz-summary.txt"
printf "%-12s %8s %12s %10s  %s\n" target seconds executions "execs/s" result > "$summary"
failed=()
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz: no target '$t' (known: $(echo $all_targets))" >&2
    exit 2
  fi
  corpus="$build/corpus/$t"      # grows from run to run; the seeds stay untouched
  artifacts="$build/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  dict=()
  if [ -f "fuzz/dict/$t.dict" ]; then dict=("-dict=fuzz/dict/$t.dict"); fi
  log="$build/fuzz-$t.log"
  echo "fuzz: $t for $seconds s" >&2
  rc=0
  nice -n "$nice_level" "$bin" "$corpus" "fuzz/corpus/$t" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -artifact_prefix="$artifacts/" -print_final_stats=1 > "$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=ok
  if [ "$rc" -ne 0 ]; then
    result="FAILED (exit $rc): $(grep -m1 -E 'SUMMARY|ERROR: libFuzzer' "$log" || echo 'see log')"
    failed+=("$t")
  fi
  printf "%-12s %8s %12s %10s  %s\n" "$t" "$seconds" "${execs:-n/a}" "${rate:-n/a}" "$result" >> "$summary"
done

cat "$summary"
echo "fuzz: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(clang++ --version | head -1)"
if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed[@]}"; do
    echo "fuzz: $t failed; log $build/fuzz-$t.log, input(s) in $build/artifacts/$t/." >&2
    echo "      Reproduce: $build/fuzz/fuzz_$t $build/artifacts/$t/<file>" >&2
  done
  exit 1
fi
