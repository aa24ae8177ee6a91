#!/usr/bin/env bash
# Sweep throughput: one sweep process at nesgd's default threads against
# `--workers N` (N processes, each pinned to its share of the cores), side by
# side on the same small F1 NE grid (alpha = 1.5, 4 seeds, the first 10,000
# Fashion-MNIST images, a fixed number of steps per run), for B = 100 and
# B = 1000, alternating the two modes REPEATS times in fresh stores. The
# figure is the wall time of the whole `nesgd sweep` command (data loading,
# evaluation and storing included), so the ratio is runs per hour; beside it
# the training throughput inside the runs (samples per second of the steps,
# from the records: one process's mean, the workers' mean times N), which is
# what runs of minutes or hours approach. Keeps the
# times, the CPU model and flags (from a run record), the commit and the date
# under OUT, and prints the medians. The stores go to a temporary folder.
#
# Usage: scripts/bench_sweep_workers.sh [--workers N] [--repeats R] [--out DIR] [--build-dir DIR]
#   N defaults to the number of CPUs this process may use.
#   data: --data-dir is taken from NESGD_DATA_DIR if set (else nesgd's own resolution order).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
workers=$(nproc)
repeats=2
build="$here/build"
out="docs/results/workers-cpu-$(date -u +%Y-%m-%d)"
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) workers=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    *) echo "usage: scripts/bench_sweep_workers.sh [--workers N] [--repeats R] [--out DIR] [--build-dir DIR]" >&2; exit 2 ;;
  esac
done
nesgd="$build/nesgd"
[ -x "$nesgd" ] || { echo "bench_sweep_workers: no $nesgd; build first (scripts/build.sh)" >&2; exit 2; }
[ "$workers" -ge 2 ] || { echo "bench_sweep_workers: --workers must be at least 2 (this machine: $(nproc) CPUs)" >&2; exit 2; }
mkdir -p "$out"
stores=$(mktemp -d "${TMPDIR:-/tmp}/nesgd-bench-workers.XXXXXX")
trap 'rm -rf "$stores"' EXIT
data=()
if [ -n "${NESGD_DATA_DIR:-}" ]; then data=(--data-dir "$NESGD_DATA_DIR" --offline); fi
# B and its steps per run: about the same samples per run at both sizes (NE counts B and B').
settings=("100 800" "1000 100")
: > "$out/times.tsv"
for i in $(seq 1 "$repeats"); do
  for s in "${settings[@]}"; do
    set -- $s
    for mode in 1 "$workers"; do
      store="$stores/b$1-w$mode-$i"
      rm -rf "$store"
      t0=$(date +%s.%N)
      "$nesgd" sweep -q --store "$store" --configs f1 --train-subset 10000 --batch-sizes "$1" --alphas 1.5 \
        --seeds 1..4 --max-iterations "$2" --workers "$mode" "${data[@]}" > /dev/null
      t1=$(date +%s.%N)
      rate=$(python3 -c 'import glob, json, sys; r = [json.load(open(f))["samples_per_second"] for f in glob.glob(sys.argv[1] + "/runs/*.json")]; print(round(sum(r) / len(r) * int(sys.argv[2]), 1))' "$store" "$mode")
      printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$mode" "$i" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" "$rate" | tee -a "$out/times.tsv"
    done
  done
done

python3 - "$out" "$workers" "$stores" <<'EOF'
import csv, datetime, glob, json, statistics, subprocess, sys
out, workers, stores = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = list(csv.reader(open(f"{out}/times.tsv"), delimiter="\t"))
try:
    commit = subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], text=True).strip()
except Exception:
    commit = "unknown"
record = json.load(open(sorted(glob.glob(f"{stores}/*/runs/*.json"))[0]))
summary = {"date": datetime.datetime.utcnow().strftime("%Y-%m-%d"), "commit": commit, "workers": workers,
           "setting": "F1, alpha = 1.5, seeds 1..4, first 10,000 Fashion-MNIST images; B = 100: 800 steps, B = 1000: 100",
           "cpu": record["environment"].get("cpu"), "libtorch_version": record["environment"].get("libtorch_version"),
           "by_batch_size": {}}
for b in sorted({r[0] for r in rows}, key=int):
    one = [float(r[3]) for r in rows if r[0] == b and r[1] == "1"]
    many = [float(r[3]) for r in rows if r[0] == b and r[1] == str(workers)]
    rate_one = [float(r[4]) for r in rows if r[0] == b and r[1] == "1"]
    rate_many = [float(r[4]) for r in rows if r[0] == b and r[1] == str(workers)]
    ratio = statistics.median(one) / statistics.median(many)
    rate_ratio = statistics.median(rate_many) / statistics.median(rate_one)
    summary["by_batch_size"][b] = {"seconds_1_process": one, f"seconds_{workers}_workers": many,
                                   "runs_per_hour_ratio": ratio, "training_samples_per_second_1_process": rate_one,
                                   f"training_samples_per_second_{workers}_workers": rate_many,
                                   "training_throughput_ratio": rate_ratio}
    print(f"B = {b:>5}: 1 process {statistics.median(one):6.1f} s, {workers} workers {statistics.median(many):6.1f} s"
          f" -> {ratio:.2f}x the runs per hour; training steps {statistics.median(rate_one):.0f} against "
          f"{statistics.median(rate_many):.0f} samples/s -> {rate_ratio:.2f}x")
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
print(f"-> {out}/summary.json")
EOF
