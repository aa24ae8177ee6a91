#!/usr/bin/python3
"""PyTorch-Python reference for nesgd_bench: the identical F1 training step.

Run with Debian's interpreter (/usr/bin/python3, which has python3-torch), not
a python3 from PATH. Same network (784 -> 7 x 500 ReLU -> 10, Glorot uniform,
zero biases), same data shape (60,000 random 1x28x28 samples, 10 classes),
same batch stream (epoch-wise reshuffle, drop the remainder), same step:

    zero_grad; L_B = CE(model(x_B), y_B); L_B.item()
    alpha == 1: L_B.backward()
    else:       (alpha * L_B).backward(); L_B' = CE(model(x_B'), y_B'); L_B'.item();
                ((1 - alpha) * L_B').backward()
    with --ne-pass joint (alpha != 1): one forward over [x_B; x_B'], L_B and L_B' from
                its two halves, (alpha * L_B + (1 - alpha) * L_B').backward()
    Adam(lr 1e-3, betas 0.9/0.999, eps 1e-7).step()

samples/s counts B per plain step and 2B per NE step, as nesgd_bench does.
Timing is the same too: warm-up, blocks of >= --min-block-seconds, median
over --repeats blocks.

PyTorch is compared at its best thread settings: the parent process runs one
child per (torch.set_num_threads, OPENBLAS_NUM_THREADS[, OMP_WAIT_POLICY,
OpenBLAS build]) setting, because OpenBLAS and libgomp read their environment
when torch loads them, and reports every setting plus the best per (B, alpha).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

OPENBLAS_DIRS = {  # Debian's OpenBLAS builds; "system" = whatever the alternative points to
    "system": None,
    "pthread": "/usr/lib/x86_64-linux-gnu/openblas-pthread",
    "openmp": "/usr/lib/x86_64-linux-gnu/openblas-openmp",
}
DATASET_SIZE = 60000
HIDDEN_LAYERS, HIDDEN_WIDTH, IN_FEATURES, CLASSES = 7, 500, 28 * 28, 10


def parse_list(text, kind):
    return [kind(v) for v in text.split(",") if v]


def make_f1(torch):
    nn = torch.nn
    layers, width = [nn.Flatten()], IN_FEATURES
    for _ in range(HIDDEN_LAYERS):
        layers += [nn.Linear(width, HIDDEN_WIDTH), nn.ReLU()]
        width = HIDDEN_WIDTH
    layers.append(nn.Linear(width, CLASSES))
    model = nn.Sequential(*layers)
    for m in model:
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


class BatchStream:
    """Epoch-wise reshuffled pass over the dataset, remainder dropped (data::BatchStream kEpoch)."""

    def __init__(self, torch, n, batch, seed):
        self.torch, self.n, self.batch = torch, n, batch
        self.gen = torch.Generator().manual_seed(seed)
        self.per_epoch = n // batch
        self.cursor = self.per_epoch

    def next(self):
        if self.cursor == self.per_epoch:
            self.order = self.torch.randperm(self.n, generator=self.gen)
            self.cursor = 0
        idx = self.order[self.cursor * self.batch:(self.cursor + 1) * self.batch]
        self.cursor += 1
        return idx


def child(args):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x_all = torch.rand(DATASET_SIZE, 1, 28, 28)
    y_all = torch.randint(CLASSES, (DATASET_SIZE,))

    def make_step(batch, alpha):
        model = make_f1(torch)
        model.train()
        # --adam fused: PyTorch's one-pass CPU Adam (torch >= 2.4), as nesgd's fused Keras Adam.
        extra = {"fused": True} if args.adam == "fused" else {}
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7, **extra)
        sb = BatchStream(torch, DATASET_SIZE, batch, args.seed + 1)
        sbp = BatchStream(torch, DATASET_SIZE, batch, args.seed + 2) if alpha != 1.0 else None

        def loss(stream):
            idx = stream.next()
            # --precision bf16: the forward pass under CPU bf16 autocast, as nesgd's --precision bf16.
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
                return F.cross_entropy(model(x_all.index_select(0, idx)), y_all.index_select(0, idx))

        def joint_losses():
            idx_b, idx_bp = sb.next(), sbp.next()
            idx = torch.cat([idx_b, idx_bp])
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
                logits = model(x_all.index_select(0, idx))
            y = y_all.index_select(0, idx)
            n = idx_b.numel()
            return F.cross_entropy(logits[:n], y[:n]), F.cross_entropy(logits[n:], y[n:])

        def step():
            opt.zero_grad()  # 1.13: zeroes in place, like LibTorch 1.13's zero_grad()
            if sbp is not None and args.ne_pass == "joint":
                lb, lbp = joint_losses()
                lb.item()
                lbp.item()
                (lb * alpha + lbp * (1.0 - alpha)).backward()
                opt.step()
                return
            lb = loss(sb)
            lb.item()
            if sbp is None:
                lb.backward()
            else:
                (lb * alpha).backward()
                lbp = loss(sbp)
                lbp.item()
                (lbp * (1.0 - alpha)).backward()
            opt.step()

        return step

    def warm_up(fn):
        t0, last, i = time.perf_counter(), 0.0, 0
        while i < 2 or time.perf_counter() - t0 < args.warmup_seconds:
            t = time.perf_counter()
            fn()
            last = time.perf_counter() - t
            i += 1
        return last

    def per_call(fn, calls):  # (wall, process CPU) seconds per call, as nesgd_bench's time_block
        t, c = time.perf_counter(), time.process_time()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - t) / calls, (time.process_time() - c) / calls

    rows = []
    for batch in args.batch_sizes:
        steps = [(alpha, make_step(batch, alpha)) for alpha in args.alphas]
        calls = {}
        for alpha, fn in steps:
            calls[alpha] = max(1, int(-(-args.min_block_seconds // max(warm_up(fn), 1e-9))))
        times = {alpha: [] for alpha, _ in steps}
        cpu = {alpha: [] for alpha, _ in steps}
        for _ in range(args.repeats):
            for alpha, fn in steps:
                wall, c = per_call(fn, calls[alpha])
                times[alpha].append(wall)
                cpu[alpha].append(c)
        for alpha, _ in steps:
            counted = batch if alpha == 1.0 else 2 * batch
            med = statistics.median(times[alpha])
            rows.append({"batch": batch, "alpha": alpha, "samples_per_step": counted, "step_seconds": med,
                         "step_seconds_per_repeat": times[alpha], "samples_per_second": counted / med,
                         "step_cpu_seconds": statistics.median(cpu[alpha]),
                         "step_cpu_seconds_per_repeat": cpu[alpha],
                         "noise": (max(times[alpha]) - min(times[alpha])) / med})
    import ctypes
    try:
        ob = ctypes.CDLL("libopenblas.so.0")
        ob.openblas_get_config.restype = ctypes.c_char_p
        blas = {"config": ob.openblas_get_config().decode(), "threads": ob.openblas_get_num_threads()}
    except OSError:
        blas = {"config": "unknown", "threads": -1}
    json.dump({"torch": torch.__version__, "torch_threads": torch.get_num_threads(), "blas": blas, "rows": rows},
              sys.stdout)
    sys.stdout.write("\n")


# nesgd's heap policies (include/nesgd/runtime/memory.h) as glibc tunables, so
# that PyTorch-Python is timed under nesgd's "retain" too and the comparison
# is at PyTorch's best, not at a heap setting only nesgd enjoys.
MALLOC_TUNABLES = {"default": None, "retain": "glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647"}
SETTING_KEYS = ("torch_threads", "openblas_threads", "blas_build", "omp_wait_policy", "malloc")


def malloc_env(env, option):
    """env with GLIBC_TUNABLES set for heap policy `option` (default: glibc's own, i.e. unset)."""
    if option not in MALLOC_TUNABLES:
        sys.exit(f"--malloc-options: unknown policy '{option}': use {', '.join(MALLOC_TUNABLES)}")
    env.pop("GLIBC_TUNABLES", None)
    if MALLOC_TUNABLES[option]:
        env["GLIBC_TUNABLES"] = MALLOC_TUNABLES[option]
    return env


def settings_from(args):
    out = []
    for variant in args.blas_variants:
        for wait in args.wait_policies:
            for heap in args.malloc_options:
                for aten in args.thread_options:
                    for blas in args.thread_options:
                        out.append({"torch_threads": aten, "openblas_threads": blas, "blas_build": variant,
                                    "omp_wait_policy": wait, "malloc": heap})
    return out


def run_setting(args, s, batch_sizes):
    env = malloc_env(dict(os.environ, OPENBLAS_NUM_THREADS=str(s["openblas_threads"])), s["malloc"])
    if s["omp_wait_policy"] != "inherit":
        env.pop("OMP_WAIT_POLICY", None)
        if s["omp_wait_policy"] != "default":
            env["OMP_WAIT_POLICY"] = s["omp_wait_policy"]
    libdir = OPENBLAS_DIRS[s["blas_build"]]
    if libdir:
        if not os.path.isdir(libdir):
            sys.exit(f"reference_step.py: --blas-variants {s['blas_build']}: {libdir} is missing "
                     f"(apt-get install libopenblas0-{s['blas_build']})")
        env["LD_LIBRARY_PATH"] = libdir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    cmd = [sys.executable, os.path.abspath(__file__), "--child", "--threads", str(s["torch_threads"]),
           "--batch-sizes", ",".join(map(str, batch_sizes)), "--alphas", ",".join(map(str, args.alphas)),
           "--repeats", str(args.repeats), "--min-block-seconds", str(args.min_block_seconds),
           "--warmup-seconds", str(args.warmup_seconds), "--seed", str(args.seed),
           "--precision", args.precision, "--adam", args.adam, "--ne-pass", args.ne_pass]
    print(f"reference_step.py: B {batch_sizes}: torch threads {s['torch_threads']}, OpenBLAS threads "
          f"{s['openblas_threads']}, {s['blas_build']} OpenBLAS, OMP_WAIT_POLICY {s['omp_wait_policy']}, "
          f"heap {s['malloc']}",
          file=sys.stderr)
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    return dict(s, **json.loads(out.strip().splitlines()[-1]))


def parent(args):
    # Every setting at the batch sizes up to --sweep-max-batch; larger batch
    # sizes (slow to time) only at the setting that was best at the largest
    # swept one, summed over alphas.
    swept = [b for b in args.batch_sizes if b <= args.sweep_max_batch] or args.batch_sizes[:1]
    rest = [b for b in args.batch_sizes if b not in swept]
    results = [run_setting(args, s, swept) for s in settings_from(args)]
    if rest:
        def score(r):
            return sum(row["samples_per_second"] for row in r["rows"] if row["batch"] == max(swept))
        top = max(results, key=score)
        best_setting = {k: top[k] for k in SETTING_KEYS}
        results.append(run_setting(args, best_setting, rest))
    report = {"tool": "reference_step.py", "command": " ".join(sys.argv), "python": sys.version.split()[0],
              "settings": results,
              "best": best_per_point(results, SETTING_KEYS)}
    print("| B | alpha | PyTorch-Python samples/s (best) | best setting (torch threads / OpenBLAS threads / build / "
          "OMP_WAIT_POLICY / heap) |")
    print("|---:|---:|---:|---|")
    for row in report["best"]:
        print(f"| {row['batch']} | {row['alpha']:g} | {row['samples_per_second']:.0f} | "
              f"{row['torch_threads']} / {row['openblas_threads']} / {row['blas_build']} / {row['omp_wait_policy']} / "
              f"{row['malloc']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


def best_per_point(results, setting_keys):
    """The fastest row per (B, alpha) over every setting's results, with that setting's keys, sorted."""
    best = {}
    for r in results:
        for row in r["rows"]:
            key = (row["batch"], row["alpha"])
            if key not in best or row["samples_per_second"] > best[key]["samples_per_second"]:
                best[key] = dict(row, **{k: r[k] for k in setting_keys})
    return [best[k] for k in sorted(best)]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-sizes", type=lambda s: parse_list(s, int), default=[100, 1000, 5000])
    p.add_argument("--alphas", type=lambda s: parse_list(s, float), default=[1.0, 1.5])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--min-block-seconds", type=float, default=1.0)
    p.add_argument("--warmup-seconds", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="3 repeats of short blocks: a smoke run")
    p.add_argument("--thread-options", type=lambda s: parse_list(s, int), default=[1, 2],
                   help="values tried for both torch.set_num_threads and OPENBLAS_NUM_THREADS")
    p.add_argument("--blas-variants", type=lambda s: parse_list(s, str), default=["system"],
                   help="OpenBLAS builds to try: system, pthread, openmp (via LD_LIBRARY_PATH)")
    p.add_argument("--malloc-options", type=lambda s: parse_list(s, str), default=["default", "retain"],
                   help="heap policies to try: default (glibc's), retain (nesgd's, via GLIBC_TUNABLES)")
    p.add_argument("--wait-policies", type=lambda s: parse_list(s, str), default=["inherit"],
                   help="OMP_WAIT_POLICY values to try: inherit (the caller's), default (unset), passive, active")
    p.add_argument("--sweep-max-batch", type=int, default=1000,
                   help="batch sizes above this run only at the best setting of the largest swept one")
    p.add_argument("--json", help="write every setting's results and the best per (B, alpha) here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--precision", choices=["fp32", "bf16"], default="fp32",
                   help="bf16: forward passes under torch.autocast('cpu', bfloat16)")
    p.add_argument("--adam", choices=["default", "fused"], default="default",
                   help="torch.optim.Adam as constructed by default, or with fused=True (torch >= 2.4)")
    p.add_argument("--ne-pass", choices=["split", "joint"], default="split",
                   help="NE step: a forward and backward per batch (split, the usual way) or one over [B; B'] (joint)")
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.repeats, args.min_block_seconds, args.warmup_seconds = min(args.repeats, 3), 0.2, 0.2
    for v in args.wait_policies:
        if v not in ("inherit", "default", "passive", "active"):
            p.error(f"--wait-policies: unknown value '{v}': use inherit, default, passive or active")
    for v in args.blas_variants:
        if v not in OPENBLAS_DIRS:
            p.error(f"--blas-variants: unknown build '{v}': use {', '.join(OPENBLAS_DIRS)}")
    child(args) if args.child else parent(args)


if __name__ == "__main__":
    main()
