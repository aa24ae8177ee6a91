#!/usr/bin/env bash
# scripts/gpu_pack_study.sh - packs on a CUDA GPU: their throughput, and the paper's two F1
# Table 2 rows with 10 seeds each, in one call of well under 10 minutes.
#
#   NESGD_DATA_DIR=DIR scripts/gpu_pack_study.sh [--out DIR]        # on the GPU machine
#   scripts/gpu_pack_study.sh --cpu --quick --no-build --build-dir build --out /tmp/study   # checks it on a CPU
#
# Steps, each under its own time limit so that a short lease still yields the first ones:
#   (1) build against PyTorch's LibTorch (scripts/gpu_check.sh --build-only; its --help
#       lists what the machine needs and how to carry the build dependencies);
#   (2) pack throughput (nesgd_bench_pack): F1 at B = 100, a pack of 64 against the same 64
#       runs one after another, and C1 at B = 500, a pack of 8 against 8;
#   (3) the F1 Table 2 rows of the paper on the full Fashion-MNIST, 10 seeds each, as packs of
#       10 (nesgd sweep --pack 10): B = 900, alpha = 1 and B = 2000, alpha = 1.5, under the
#       paper's Keras protocol with the epoch-mean training loss, then the same with
#       --loss-measure full;
#   (4) nesgd report for each store; the stores and reports go into DIR/study.tar.gz.
# Fashion-MNIST must be found without a download (NESGD_DATA_DIR holding fashion-mnist/, or
# Debian's dataset-fashion-mnist): carry it in a git-ignored folder, e.g. .data/.
#
# Options:
#   --out DIR        logs, JSON, summary.txt and study.tar.gz (default BUILD_DIR/pack-study)
#   --build-dir DIR  default build-gpu
#   --no-build       use the binaries already in --build-dir
#   --cpu            run on the CPU (--device cpu): checks this script where there is no GPU
#   --quick          tiny settings (few steps, 2 seeds, 1,000 training images): a smoke run
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=build-gpu
OUT=""
BUILD=1
DEVICE=cuda
QUICK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift ;;
    --build-dir) BUILD_DIR="$2"; shift ;;
    --no-build) BUILD=0 ;;
    --cpu) DEVICE=cpu ;;
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "gpu_pack_study.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
OUT=${OUT:-$BUILD_DIR/pack-study}
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
log() { echo "[pack-study $(date +%H:%M:%S)] $*" | tee -a "$SUMMARY" >&2; }

if [ "$BUILD" = 1 ]; then
  cpu_flag=()
  [ "$DEVICE" = cpu ] && cpu_flag=(--cpu)
  # No c10d here: the study trains no data-parallel run, and a lent GPU's minutes must not
  # depend on c10d's headers in that machine's PyTorch.
  NESGD_EXTRA_CMAKE_ARGS="${NESGD_EXTRA_CMAKE_ARGS:--DNESGD_DISTRIBUTED=OFF}" bash scripts/gpu_check.sh --build-only --build-dir "$BUILD_DIR" --out "$OUT/build" "${cpu_flag[@]}"
fi
NESGD="$BUILD_DIR/nesgd"
BENCH="$BUILD_DIR/nesgd_bench_pack"
[ -x "$NESGD" ] && [ -x "$BENCH" ] || { log "no $NESGD or $BENCH: build first (drop --no-build)"; exit 1; }
if [ "$DEVICE" = cuda ] && command -v nvidia-smi >/dev/null; then
  log "card: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)"
fi
log "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), device $DEVICE"

# --- (2) pack throughput ------------------------------------------------------------------------
if [ "$QUICK" = 1 ]; then
  F1_BENCH=(--pack 4 --batch-sizes 100 --steps 10); C1_BENCH=(--pack 2 --batch-sizes 100 --steps 2)
else
  F1_BENCH=(--pack 64 --batch-sizes 100 --steps 300); C1_BENCH=(--pack 8 --batch-sizes 500 --steps 30)
fi
for spec in "f1:${F1_BENCH[*]}" "c1:${C1_BENCH[*]}"; do
  model=${spec%%:*}
  read -r -a args <<< "${spec#*:}"
  t0=$(date +%s)
  if timeout 150 "$BENCH" --model "$model" --device "$DEVICE" --rounds 1 "${args[@]}" --json "$OUT/bench_$model.json" \
      > "$OUT/bench_$model.md" 2> "$OUT/bench_$model.log"; then
    log "$model pack throughput ($(( $(date +%s) - t0 )) s):"
    cat "$OUT/bench_$model.md" | tee -a "$SUMMARY" >&2
  else
    log "$model pack benchmark FAILED or timed out (rc $?): see bench_$model.log"; tail -5 "$OUT/bench_$model.log" >&2
  fi
done

# --- (3) the F1 Table 2 rows, 10 seeds each -----------------------------------------------------
STUDY="$OUT/study"
mkdir -p "$STUDY"
if [ "$QUICK" = 1 ]; then
  ROWS=("100 1" "200 1.5"); SEEDS=1..2; EXTRA=(--train-subset 1000 --max-iterations 300); PACK=2; LIMIT=120
else
  ROWS=("900 1" "2000 1.5"); SEEDS=1..10; EXTRA=(); PACK=10; LIMIT=240
fi
for measure in epoch-mean full; do
  for row in "${ROWS[@]}"; do
    read -r b alpha <<< "$row"
    store="$STUDY/f1-b$b-a$alpha-$measure"
    t0=$(date +%s)
    if timeout "$LIMIT" "$NESGD" sweep --configs f1 --batch-sizes "$b" --alphas "$alpha" --seeds "$SEEDS" \
        --loss-measure "$measure" --device "$DEVICE" --pack "$PACK" --store "$store" --offline -q "${EXTRA[@]}" \
        > "$store.log" 2>&1; then
      log "F1 B=$b alpha=$alpha $measure: $(tail -1 "$store.log") ($(( $(date +%s) - t0 )) s)"
    else
      log "F1 B=$b alpha=$alpha $measure: stopped (rc $?) after $(( $(date +%s) - t0 )) s; rerun resumes it"
      tail -3 "$store.log" | tee -a "$SUMMARY" >&2
    fi
    "$NESGD" report --store "$store" --out "$store-report" > /dev/null 2>&1 || true
    [ -f "$store-report/summary.csv" ] && sed 's/^/    /' "$store-report/summary.csv" | cut -c1-200 | tee -a "$SUMMARY" >&2
  done
done
tar czf "$OUT/study.tar.gz" -C "$OUT" study
log "stores and reports: $OUT/study.tar.gz"
