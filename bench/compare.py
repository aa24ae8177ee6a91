#!/usr/bin/python3
"""Merges benchmark JSON files into the Markdown tables of docs/PERFORMANCE.md.

  compare.py step --ours R1.json R2.json ... --ref P1.json P2.json ... [--out FILE]
      nesgd_bench and reference_step.py results of the same rounds (file i of
      --ours was run beside file i of --ref): medians over rounds of samples/s
      and of the per-round ratios, and a verdict for each of the project's F1
      performance targets (docs/PERFORMANCE.md).
  compare.py sweep FILE.json ... [--out FILE]
      nesgd_bench runs of the thread sweep (bench/thread_sweep.sh): samples/s
      per setting, medians over rounds.

Torch-free: runs with any python3.
"""
import argparse
import collections
import json
import statistics
import sys

# The project's F1 performance targets (docs/PERFORMANCE.md, "F1 training step"), set
# against current PyTorch-Python at its best thread setting.
CEILING_TARGET = 0.9    # F1 step at B = 1000, alpha = 1: >= 0.9 of the fp32 matmul ceiling
NE_TARGET = 1.9         # NE step time <= 1.9 x plain step time at every B
PYTORCH_EQUAL_B = 1000  # at least as fast as PyTorch-Python here
PYTORCH_FASTER_B = 100  # the NE step here at least PYTORCH_FASTER x PyTorch-Python's
PYTORCH_FASTER = 1.3


def load(paths):
    out = []
    for p in paths:
        with open(p) as f:
            out.append(json.load(f))
    return out


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def step_table(args):
    ours, refs = load(args.ours), load(args.ref)
    if refs and len(refs) != len(ours):
        sys.exit("compare.py: --ours and --ref need one file per round each")
    keyed = collections.defaultdict(lambda: collections.defaultdict(list))
    for i, run in enumerate(ours):
        ref_best = {(r["batch"], r["alpha"]): r for r in refs[i]["best"]} if refs else {}
        for row in run["rows"]:
            k = (row["batch"], row["alpha"])
            d = keyed[k]
            d["ours"].append(row["samples_per_second"])
            d["ceiling"].append(row["ceiling_samples_per_second"])
            d["ours_over_ceiling"].append(row["ours_over_ceiling"])
            d["square"].append(row["square_ceiling_samples_per_second"])
            d["ne_over_plain"].append(row["step_time_over_plain"])
            d["noise"].append(row["noise"])
            if k in ref_best:
                p = ref_best[k]
                d["ref"].append(p["samples_per_second"])
                d["ours_over_ref"].append(row["samples_per_second"] / p["samples_per_second"])
                d["ref_setting"].append(f"{p['torch_threads']}/{p['openblas_threads']}/{p['blas_build']}/"
                                      f"{p.get('omp_wait_policy', 'inherit')}/{p.get('malloc', 'default')}")
    lines = []
    first = ours[0]
    lines.append(f"Machine: {first['cpu_model']}, {first['cores']} cores; "
                 f"nesgd threads: ATen {first['threads_applied']['aten']}, OpenBLAS {first['threads_applied']['blas']} "
                 f"({first['environment']['threads'].get('blas', '?')}); {len(ours)} rounds, "
                 f"{first['repeats']} repeats each; started {first['environment'].get('finished_at', '?')}.")
    lines.append("")
    lines.append("| B | alpha | samples counted / step | ours samples/s | PyTorch-Python samples/s (best; setting) "
                 "| ours / PyTorch | step-GEMM ceiling samples/s | ours / ceiling | square-sgemm ceiling samples/s "
                 "| NE step time / plain | noise (median spread) |")
    lines.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in sorted(keyed):
        d = keyed[k]
        b, a = k
        setting = collections.Counter(d["ref_setting"]).most_common(1)[0][0] if d["ref_setting"] else "-"
        counted = f"B = {b}" if a == 1.0 else f"2B = {2 * b}"
        lines.append(f"| {b} | {a:g} | {counted} | {fmt(med(d['ours']), '.0f')} | "
                     f"{fmt(med(d['ref']), '.0f')} ({setting}) | {fmt(med(d['ours_over_ref']), '.3f')} | "
                     f"{fmt(med(d['ceiling']), '.0f')} | {fmt(med(d['ours_over_ceiling']), '.3f')} | "
                     f"{fmt(med(d['square']), '.0f')} | {fmt(med(d['ne_over_plain']), '.3f')} | "
                     f"{fmt(100 * med(d['noise']), '.0f')}% |")
    lines.append("")
    lines.append("PyTorch setting = torch threads / OPENBLAS_NUM_THREADS / OpenBLAS build / OMP_WAIT_POLICY / heap "
                 "(the most frequent best over rounds; inherit = as run_benchmarks.sh was started).")
    lines.append("")
    lines += verdicts(keyed)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


def verdict(value, target, at_least, strict=False):
    if value is None:
        return "not measured"
    ok = (value > target if strict else value >= target) if at_least else value <= target
    if ok:
        return f"met ({value:.3f})"
    miss = (target - value) / target if at_least else (value - target) / target
    return f"MISSED by {100 * miss:.1f}% ({value:.3f})"


def verdicts(keyed):
    out = ["Targets (medians over rounds):", ""]
    k = (1000, 1.0)
    if k in keyed:
        out.append(f"- F1 step at B = 1000, alpha = 1, >= {CEILING_TARGET} of the step-GEMM ceiling: "
                   f"{verdict(med(keyed[k]['ours_over_ceiling']), CEILING_TARGET, True)}")
    for (b, a), d in sorted(keyed.items()):
        if a != 1.0:
            out.append(f"- NE step (alpha = {a:g}) <= {NE_TARGET} x plain step time at B = {b}: "
                       f"{verdict(med(d['ne_over_plain']), NE_TARGET, False)}")
    for (b, a), d in sorted(keyed.items()):
        if b == PYTORCH_EQUAL_B:
            out.append(f"- at least as fast as PyTorch-Python at B = {b}, alpha = {a:g}: "
                       f"{verdict(med(d['ours_over_ref']), 1.0, True)}")
        if b == PYTORCH_FASTER_B and a != 1.0:
            out.append(f"- NE step at least {PYTORCH_FASTER}x PyTorch-Python at B = {b}, alpha = {a:g}: "
                       f"{verdict(med(d['ours_over_ref']), PYTORCH_FASTER, True)}")
    return out


def sweep_table(args):
    runs = load(args.files)
    table = collections.defaultdict(lambda: collections.defaultdict(list))
    batches = set()
    for run in runs:
        env = run["env"]
        build = "openmp" if "openblas-openmp" in env.get("LD_LIBRARY_PATH", "") else "pthread"
        th = run.get("threads_in_effect", run["environment"]["threads"])
        key = (build, env.get("OMP_WAIT_POLICY") or "default", run["threads_applied"]["aten"],
               run["threads_applied"]["blas"], th["aten_threads"], th["blas_threads"])
        for row in run["rows"]:
            if row["alpha"] == 1.0:
                table[key][row["batch"]].append(row["samples_per_second"])
                batches.add(row["batch"])
        table[key]["config"].append(th.get("blas", "?"))
    batches = sorted(batches)
    best = {b: max(med(d[b]) or 0 for d in table.values()) for b in batches}
    lines = ["| OpenBLAS build | OMP_WAIT_POLICY | ATen threads (asked / in effect) | OpenBLAS threads (asked / in effect) | "
             + " | ".join(f"B = {b} samples/s (vs best)" for b in batches) + " | rounds |",
             "|---|---|---|---|" + "---:|" * len(batches) + "---:|"]
    for key in sorted(table):
        build, wait, aten, blas, aten_eff, blas_eff = key
        d = table[key]
        cells = [f"{med(d[b]):.0f} ({med(d[b]) / best[b]:.2f})" if d[b] else "-" for b in batches]
        lines.append(f"| {build} | {wait} | {aten} / {aten_eff} | {blas} / {blas_eff} | " + " | ".join(cells)
                     + f" | {len(d['config'])} |")
    configs = sorted({c for d in table.values() for c in d["config"]})
    lines += ["", "OpenBLAS as reported by openblas_get_config(): " + "; ".join(configs)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("step")
    s.add_argument("--ours", nargs="+", required=True)
    s.add_argument("--ref", nargs="*", default=[])
    s.add_argument("--out")
    w = sub.add_parser("sweep")
    w.add_argument("files", nargs="+")
    w.add_argument("--out")
    args = p.parse_args()
    step_table(args) if args.mode == "step" else sweep_table(args)


if __name__ == "__main__":
    main()
