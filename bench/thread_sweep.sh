#!/usr/bin/env bash
# Measures the F1 step (alpha = 1) under every thread setup and prints the
# "Thread settings" table of docs/PERFORMANCE.md:
#   ATen intra-op threads {1, 2} x OpenBLAS threads {1, 2}
#   x OpenBLAS build {pthread, openmp} x OMP_WAIT_POLICY {default, passive, active}
#
#   bench/thread_sweep.sh [--rounds N] [--batch-sizes 100,1000] [--builds pthread,openmp]
#                         [--wait-policies default,passive,active] [--out DIR] [-- nesgd_bench flags]
#
# The openmp build is tried through LD_LIBRARY_PATH (libopenblas0-openmp must
# be installed), never by switching the system alternative, so other users of
# the machine keep their BLAS. Each run's JSON records openblas_get_config()
# and the thread counts in effect, which shows whether the library took effect
# (with the openmp build, OpenBLAS and ATen share one OpenMP pool, and
# openblas_set_num_threads also sets the OpenMP thread count).
# Rounds go over all settings in turn, so load drift spreads over all of them.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${NESGD_BUILD_DIR:-$root/build}
rounds=3
sizes=100,1000
builds=pthread,openmp
waits=default,passive,active
threads=(1 2)
out=""
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --batch-sizes) sizes=$2; shift 2 ;;
    --builds) builds=$2; shift 2 ;;
    --wait-policies) waits=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "thread_sweep.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target nesgd_bench >&2
out=${out:-$build/thread-sweep-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"

libdir_of() { echo "/usr/lib/x86_64-linux-gnu/openblas-$1"; }
IFS=, read -r -a build_list <<<"$builds"
IFS=, read -r -a wait_list <<<"$waits"
for b in "${build_list[@]}"; do
  if [ ! -f "$(libdir_of "$b")/libopenblas.so.0" ]; then
    echo "thread_sweep.sh: $(libdir_of "$b") is missing: apt-get install libopenblas0-$b" >&2
    exit 1
  fi
done

files=()
for r in $(seq 1 "$rounds"); do
  for b in "${build_list[@]}"; do
    for w in "${wait_list[@]}"; do
      for a in "${threads[@]}"; do
        for t in "${threads[@]}"; do
          f="$out/r${r}_${b}_${w}_aten${a}_blas${t}.json"
          echo "== round $r/$rounds: $b OpenBLAS, OMP_WAIT_POLICY=$w, ATen $a, OpenBLAS $t" >&2
          env_args=(LD_LIBRARY_PATH="$(libdir_of "$b")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
          [ "$w" != default ] && env_args+=(OMP_WAIT_POLICY="$w")
          env "${env_args[@]}" "$build/nesgd_bench" --batch-sizes "$sizes" --alphas 1 --threads "$a" \
            --blas-threads "$t" --json "$f" "${extra[@]}" >/dev/null
          files+=("$f")
        done
      done
    done
  done
done
/usr/bin/python3 "$root/bench/compare.py" sweep "${files[@]}" --out "$out/sweep.md"
echo "thread_sweep.sh: results in $out" >&2
