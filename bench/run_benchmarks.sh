#!/usr/bin/env bash
# Runs nesgd_bench and the PyTorch-Python reference side by side and prints the
# comparison table of docs/PERFORMANCE.md ("F1 training step").
#
#   bench/run_benchmarks.sh [--model f1] [--rounds N] [--quick] [--out DIR]
#                           [--batch-sizes 100,1000,5000] [--alphas 1,1.5]
#                           [--repeats 7] [--min-block-seconds 1.0]
#                           [--py-blas-variants system[,openmp,...]] [--py-wait-policies default,passive (f1)]
#                           [--pythons debian,pypi] [--ne-pass joint|split]
#                           [--ref-ne-pass split|joint (f1)] [-- nesgd_bench flags]
#
# Builds nesgd_bench if needed (build dir: $NESGD_BUILD_DIR, default build/).
# Each round runs both programs back to back, alternating which goes first, so
# slow drift of the machine's load falls on both; the table reports medians
# over rounds of the per-round figures and ratios. Timings on a shared 2-core
# machine are noisy: run when it is quiet, with --rounds 3 or more.
# Both programs inherit this environment (LD_LIBRARY_PATH, OMP_WAIT_POLICY,
# OPENBLAS_CORETYPE); nesgd_bench runs at the project's default thread policy
# (src/nesgd/runtime/threads.cpp), the reference at the best of its settings:
# torch threads {1,2} x OPENBLAS_NUM_THREADS {1,2} x --py-wait-policies
# (x --py-blas-variants), every setting in its own process.
# --pythons: which PyTorch-Python runs the reference, each in every round:
# "debian" (/usr/bin/python3 with python3-torch 1.13) and/or "pypi" (the
# current torch in .venv-torch/, scripts/torch_pypi.sh; the anchor quoted in
# docs/PERFORMANCE.md); default both where .venv-torch exists, else debian.
# --ne-pass: nesgd's NE step (default joint, the trainer's default); --ref-ne-pass:
# the reference's (default: its usual split step; joint is F1's reference only).
# Results: DIR/ours_<round>.json, DIR/ref[_pypi]_<round>.json, and
# DIR/comparison.md (against Debian's) and DIR/comparison_pypi.md.
#
# Adding a model: give it a bench_<x>.cpp (see bench/bench.h) and its
# PyTorch-Python reference script a case in reference_for() below; the
# reference must accept reference_step.py's flags and write the same JSON.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${NESGD_BUILD_DIR:-$root/build}
python=/usr/bin/python3  # Debian's, with python3-torch; not whatever python3 PATH finds
pypi_python=${NESGD_VENV:-$root/.venv-torch}/bin/python
pythons=""
model=f1
rounds=3
quick=()
out=""
py_variants=system
py_waits=default,passive
timing=()
bench_extra=()
ne_pass=joint
ref_ne_pass=()
sizes=(--batch-sizes 100,1000,5000)
alphas=(--alphas 1,1.5)

while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --quick) quick=(--quick); shift ;;
    --out) out=$2; shift 2 ;;
    --batch-sizes) sizes=(--batch-sizes "$2"); shift 2 ;;
    --alphas) alphas=(--alphas "$2"); shift 2 ;;
    --py-blas-variants) py_variants=$2; shift 2 ;;
    --py-wait-policies) py_waits=$2; shift 2 ;;
    --pythons) pythons=$2; shift 2 ;;
    --ne-pass) ne_pass=$2; shift 2 ;;
    --ref-ne-pass) ref_ne_pass=(--ne-pass "$2"); shift 2 ;;
    --repeats|--min-block-seconds) timing+=("$1" "$2"); shift 2 ;;
    --) shift; bench_extra=("$@"); break ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) echo "run_benchmarks.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# The reference script and its model-specific flags.
reference_for() {
  case "$1" in
    f1) echo "$root/bench/reference_step.py --wait-policies $py_waits" ;;
    c1|c2) echo "$root/bench/reference_conv.py --model $1" ;;
    *) echo "run_benchmarks.sh: no PyTorch-Python reference for model '$1'" >&2; exit 2 ;;
  esac
}

if [ -z "$pythons" ]; then
  pythons=debian
  [ -x "$pypi_python" ] && pythons=debian,pypi
fi
IFS=, read -r -a py_kinds <<< "$pythons"
python_of() { case "$1" in debian) echo "$python" ;; pypi) echo "$pypi_python" ;; *) echo "run_benchmarks.sh: --pythons takes debian and/or pypi, got '$1'" >&2; exit 2 ;; esac; }
suffix_of() { [ "$1" = debian ] && echo "" || echo "_$1"; }
for kind in "${py_kinds[@]}"; do
  p=$(python_of "$kind")
  if [ ! -x "$p" ] || ! "$p" -c 'import torch' 2>/dev/null; then
    echo "run_benchmarks.sh: $p cannot import torch: scripts/setup.sh (debian) or NESGD_TORCH=pypi scripts/setup.sh (pypi)" >&2
    exit 1
  fi
done
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$build" --target nesgd_bench >&2

out=${out:-$build/bench-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
read -r -a reference <<<"$(reference_for "$model")"
ours_files=()
declare -A ref_files=()
for r in $(seq 1 "$rounds"); do
  run_ours() {
    echo "== round $r/$rounds: nesgd_bench" >&2
    "$build/nesgd_bench" --model "$model" "${sizes[@]}" "${alphas[@]}" "${timing[@]}" "${quick[@]}" --ne-pass "$ne_pass" --json "$out/ours_$r.json" "${bench_extra[@]}" >&2
  }
  run_ref() {
    for kind in "${py_kinds[@]}"; do
      local p f variants=$py_variants
      p=$(python_of "$kind")
      f="$out/ref$(suffix_of "$kind")_$r.json"
      # PyPI's torch carries its own BLAS (MKL): Debian's OpenBLAS builds do not apply to it.
      [ "$kind" = pypi ] && variants=system
      echo "== round $r/$rounds: PyTorch-Python reference ($kind: $("$p" -c 'import torch; print(torch.__version__)'))" >&2
      "$p" "${reference[@]}" "${sizes[@]}" "${alphas[@]}" "${timing[@]}" "${quick[@]}" \
        "${ref_ne_pass[@]}" --blas-variants "$variants" --json "$f" >&2
      ref_files[$kind]+="$f "
    done
  }
  if [ $((r % 2)) -eq 1 ]; then run_ours; run_ref; else run_ref; run_ours; fi
  ours_files+=("$out/ours_$r.json")
done

for kind in "${py_kinds[@]}"; do
  read -r -a refs <<< "${ref_files[$kind]}"
  "$python" "$root/bench/compare.py" step --ours "${ours_files[@]}" --ref "${refs[@]}" \
    --out "$out/comparison$(suffix_of "$kind").md"
done
echo "run_benchmarks.sh: results in $out" >&2
