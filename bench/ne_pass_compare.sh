#!/usr/bin/env bash
# NE's joint pass (one forward and backward over [B; B']) against the split pass (one per batch),
# nesgd and current PyTorch-Python side by side in one run (docs/PERFORMANCE.md, "NE's joint pass").
#
#   bench/ne_pass_compare.sh [--model f1|c1] [--batch-sizes 100,1000] [--alphas 1,1.5] [--rounds 3]
#                            [--repeats 7] [--min-block-seconds 1.0] [--out DIR] [--quick]
#
# Each round runs, in an order that alternates from round to round so that drift of the machine's
# load falls on all of them: nesgd_bench --ne-pass split, nesgd_bench --ne-pass joint, and the
# PyTorch-Python reference at its best thread settings (each setting its own process) with its usual
# split NE step and, for F1, with the same joint pass. Python: PyPI's current torch in .venv-torch
# (scripts/torch_pypi.sh) when present, else Debian's /usr/bin/python3. Prints medians over rounds:
# samples/s (B per plain step, 2B per NE step), the NE step's time over the plain step's, joint over
# split, and ours over PyTorch (split and joint). Writes every round's JSON and summary.md to DIR,
# with the CPU's flags (cpu.txt).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${NESGD_BUILD_DIR:-$root/build}
model=f1
sizes=100,1000
alphas=1,1.5
rounds=3
timing=()
quick=()
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --batch-sizes) sizes=$2; shift 2 ;;
    --alphas) alphas=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --repeats|--min-block-seconds) timing+=("$1" "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=(--quick); shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "ne_pass_compare.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
python=/usr/bin/python3
[ -x "${NESGD_VENV:-$root/.venv-torch}/bin/python" ] && python=${NESGD_VENV:-$root/.venv-torch}/bin/python
case "$model" in
  f1) reference=("$root/bench/reference_step.py" --wait-policies default,passive); ref_passes=(split joint) ;;
  c1) reference=("$root/bench/reference_conv.py" --model c1); ref_passes=(split) ;;
  *) echo "ne_pass_compare.sh: --model f1 or c1" >&2; exit 2 ;;
esac
[ -x "$build/nesgd_bench" ] || { echo "ne_pass_compare.sh: no $build/nesgd_bench: run scripts/build.sh" >&2; exit 1; }
out=${out:-$build/ne-pass-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out"
{ grep -m1 'model name' /proc/cpuinfo; grep -m1 '^flags' /proc/cpuinfo; echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-}"; } > "$out/cpu.txt"
for r in $(seq 1 "$rounds"); do
  jobs=()
  for p in split joint; do jobs+=("ours $p"); done
  for p in "${ref_passes[@]}"; do jobs+=("ref $p"); done
  if [ $((r % 2)) -eq 0 ]; then  # reversed every other round
    rev=(); for ((i = ${#jobs[@]} - 1; i >= 0; i--)); do rev+=("${jobs[$i]}"); done; jobs=("${rev[@]}")
  fi
  for job in "${jobs[@]}"; do
    read -r who pass <<<"$job"
    echo "== round $r/$rounds: $who, $pass pass" >&2
    if [ "$who" = ours ]; then
      "$build/nesgd_bench" --model "$model" --batch-sizes "$sizes" --alphas "$alphas" --ne-pass "$pass" \
        "${timing[@]}" "${quick[@]}" --json "$out/ours_${pass}_$r.json" > /dev/null
    else
      pass_flag=(); [ "$model" = f1 ] && pass_flag=(--ne-pass "$pass")
      "$python" "${reference[@]}" --batch-sizes "$sizes" --alphas "$alphas" "${pass_flag[@]}" \
        "${timing[@]}" "${quick[@]}" --json "$out/ref_${pass}_$r.json" > /dev/null
    fi
  done
done
"$python" - "$out" "$rounds" "${ref_passes[@]}" <<'PY' | tee "$out/summary.md"
import json, statistics, sys
out, rounds, ref_passes = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def rows(path, key):
    j = json.load(open(path))
    return {(r["batch"], r["alpha"]): r["samples_per_second"] for r in j[key]}, j
ours = {p: [rows(f"{out}/ours_{p}_{r}.json", "rows")[0] for r in range(1, rounds + 1)] for p in ("split", "joint")}
refs = {p: [rows(f"{out}/ref_{p}_{r}.json", "best")[0] for r in range(1, rounds + 1)] for p in ref_passes}
meta = rows(f"{out}/ours_joint_1.json", "rows")[1]
torch_version = json.load(open(f"{out}/ref_split_1.json")).get("torch_version", "")
def med(values):
    return statistics.median(values)
print(f"{meta['model']} on {meta['cpu_model']} ({meta['cores']} cores), {rounds} rounds; medians of per-round figures\n")
head = "| B | alpha | ours split, samples/s | ours joint, samples/s | joint / split | ours joint: NE step / plain step |"
head += "".join(f" PyTorch {p}, samples/s | ours joint / PyTorch {p} |" for p in ref_passes)
print(head)
print("|" + "---:|" * (head.count("|") - 1))
for key in sorted(ours["joint"][0]):
    b, a = key
    sp = [ours["split"][i][key] for i in range(rounds)]
    jo = [ours["joint"][i][key] for i in range(rounds)]
    line = f"| {b} | {a:g} | {med(sp):.0f} | {med(jo):.0f} | {med([j / s for j, s in zip(jo, sp)]):.3f} |"
    if a != 1.0 and (b, 1.0) in ours["joint"][0]:
        # step time ratio: (2B / joint samples/s) / (B / plain samples/s)
        pl = [ours["joint"][i][(b, 1.0)] for i in range(rounds)]
        line += f" {med([2 * p / j for j, p in zip(jo, pl)]):.3f} |"
    else:
        line += " - |"
    for p in ref_passes:
        rf = [refs[p][i].get(key, float("nan")) for i in range(rounds)]
        line += f" {med(rf):.0f} | {med([j / f for j, f in zip(jo, rf)]):.3f} |"
    print(line)
PY
echo "ne_pass_compare.sh: results in $out" >&2
