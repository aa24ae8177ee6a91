#!/usr/bin/env bash
# Data-parallel against threads on one machine, side by side: F1 NE
# (alpha = 1.5) at B = 2000 on Fashion-MNIST for a fixed number of steps,
#   (a) one process, nesgd's default threads (measured best: 1 ATen thread, BLAS on every core)
#   (b) one process, 2 ATen threads         nesgd train --threads 2
#   (c) 2 ranks with 1 thread each          nesgd train --distributed --threads 1 --blas-threads 1 (Gloo, 127.0.0.1)
# alternating a, b and c REPEATS times. Each run's samples per second comes from
# its own record (time inside training steps, the all-reduce included). Prints
# the medians and the ratio b / a, and keeps the records, the CPU model and
# flags, the commit and the date under OUT.
#
# Usage: scripts/bench_distributed.sh [--steps N] [--repeats R] [--batch-size B] [--out DIR] [--build-dir DIR]
#   data: --data-dir is taken from NESGD_DATA_DIR if set (else nesgd's own resolution order).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
steps=60
repeats=3
batch=2000
build="$here/build"
out="docs/results/dist-cpu-$(date -u +%Y-%m-%d)"
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --batch-size) batch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    *) echo "usage: scripts/bench_distributed.sh [--steps N] [--repeats R] [--batch-size B] [--out DIR] [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
nesgd="$build/nesgd"
[ -x "$nesgd" ] || { echo "bench_distributed: no $nesgd; build first (scripts/build.sh)" >&2; exit 2; }
mkdir -p "$out"
data=()
if [ -n "${NESGD_DATA_DIR:-}" ]; then data=(--data-dir "$NESGD_DATA_DIR"); fi
common=(train --model f1 --batch-size "$batch" --alpha 1.5 --seed 1 --max-iterations "$steps" -q "${data[@]}")

port=$(( 29500 + RANDOM % 1000 ))
for i in $(seq 1 "$repeats"); do
  "$nesgd" "${common[@]}" --out "$out/default-$i.json"
  "$nesgd" "${common[@]}" --threads 2 --out "$out/threads2-$i.json"
  pids=()
  for r in 0 1; do
    RANK=$r WORLD_SIZE=2 LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      "$nesgd" "${common[@]}" --threads 1 --blas-threads 1 --distributed --out "$out/ranks2-$i.json" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
  port=$(( port + 1 ))
done

python3 - "$out" "$repeats" "$batch" "$steps" <<'EOF'
import json, statistics, subprocess, sys, datetime, os
out, repeats, batch, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def rate(kind):
    return [json.load(open(f"{out}/{kind}-{i}.json"))["samples_per_second"] for i in range(1, repeats + 1)]
d, a, b = rate("default"), rate("threads2"), rate("ranks2")
env = json.load(open(f"{out}/default-1.json"))["environment"]
try:
    commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
except Exception:
    commit = "unknown"
summary = {
    "date": datetime.datetime.utcnow().strftime("%Y-%m-%d"),
    "commit": commit,
    "setting": f"F1, alpha = 1.5, B = {batch}, {steps} steps, Fashion-MNIST",
    "default_samples_per_second": d,
    "default_threads": env.get("threads"),
    "threads2_samples_per_second": a,
    "ranks2_samples_per_second": b,
    "median_threads2": statistics.median(a),
    "median_ranks2": statistics.median(b),
    "median_default": statistics.median(d),
    "ratio_ranks2_over_threads2": statistics.median(b) / statistics.median(a),
    "ratio_ranks2_over_default": statistics.median(b) / statistics.median(d),
    "cpu": env.get("cpu"),
    "libtorch_version": env.get("libtorch_version"),
}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(f"1 process, default:    {statistics.median(d):8.0f} samples/s  (runs: {', '.join(f'{x:.0f}' for x in d)})")
print(f"1 process x 2 threads: {statistics.median(a):8.0f} samples/s  (runs: {', '.join(f'{x:.0f}' for x in a)})")
print(f"2 ranks x 1 thread:    {statistics.median(b):8.0f} samples/s  (runs: {', '.join(f'{x:.0f}' for x in b)})")
print(f"ratio 2 ranks / 2 threads: {summary['ratio_ranks2_over_threads2']:.2f}; 2 ranks / default: {summary['ratio_ranks2_over_default']:.2f}   -> {out}/summary.json")
EOF
