#!/usr/bin/python3
"""PyTorch-Python reference for nesgd_bench --model c1|c2: the identical conv training step.

Run with Debian's interpreter (/usr/bin/python3, which has python3-torch).
Takes reference_step.py's flags and writes the same JSON (bench/run_benchmarks.sh
and compare.py read it), plus --model. Same network as nesgd's C1/C2
(include/nesgd/models/conv_nets.h): 3x3 'same' convolutions with bias, ghost
batch norm of 100 with Keras's running-statistics rule, ReLU, 2x2 max-pool,
dense layers; Glorot-uniform weights, zero biases; NHWC (channels-last)
activations and conv weights, as nesgd's default. Ghost BN is computed exactly
as nesgd's GhostBatchNorm2d does it: one ATen batch_norm per ghost chunk
(split/cat) with a scratch row as running statistics at momentum 1, then the
moving averages from those rows. Same data shape (50,000 random 3x32x32
samples in [0, 1)), same batch stream, same step as reference_step.py:

    zero_grad; L_B = CE(model(x_B), y_B); L_B.item()
    alpha == 1: L_B.backward()
    else:       (alpha * L_B).backward(); L_B' = CE(model(x_B'), y_B'); L_B'.item();
                ((1 - alpha) * L_B').backward()
    Adam(lr 1e-3, betas 0.9/0.999, eps 1e-7).step()

Thread settings: convolutions run on ATen's pool, so each child uses
torch.set_num_threads(T) for T in --thread-options (default: all cores) with
OPENBLAS_NUM_THREADS from --blas-thread-options (default 1, nesgd's conv
default), and each heap policy of --malloc-options (glibc's defaults, and
nesgd's "retain" through GLIBC_TUNABLES; include/nesgd/runtime/memory.h); the
best per (B, alpha) is reported.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_step as rs  # noqa: E402  (BatchStream, parse_list, OPENBLAS_DIRS)

DATASET_SIZE = 50000  # CIFAR's training set
GHOST = 100
KERAS_BN_MOMENTUM, KERAS_BN_EPS = 0.99, 1e-3
MODELS = {  # stacks (channels, convs), hidden dense widths, classes: the paper's
    "c1": ([(64, 3), (128, 3), (256, 3)], [], 10),
    "c2": ([(64, 3), (128, 3), (256, 3), (512, 2)], [1024], 100),
}


def make_net(torch, model, channels_last):
    nn, F = torch.nn, torch.nn.functional

    class GhostBatchNorm2d(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(c))
            self.bias = nn.Parameter(torch.zeros(c))
            self.register_buffer("running_mean", torch.zeros(c))
            self.register_buffer("running_var", torch.ones(c))

        def forward(self, x):
            if not self.training:
                return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, False, 0.0,
                                    KERAS_BN_EPS)
            n, c, h, w = x.shape
            g, m = n // GHOST, GHOST * h * w
            means = torch.zeros(g, c, dtype=x.dtype, device=x.device)
            var = torch.ones(g, c, dtype=x.dtype, device=x.device)
            if g == 1:
                y = F.batch_norm(x, means[0], var[0], self.weight, self.bias, True, 1.0, KERAS_BN_EPS)
            else:
                y = torch.cat([F.batch_norm(chunk, means[i], var[i], self.weight, self.bias, True, 1.0, KERAS_BN_EPS)
                               for i, chunk in enumerate(x.split(GHOST, 0))], 0)
            with torch.no_grad():
                keep = KERAS_BN_MOMENTUM
                self.running_mean.mul_(keep).add_(means.mean(0), alpha=1.0 - keep)
                self.running_var.mul_(keep).add_(var.mean(0), alpha=(1.0 - keep) * (m - 1) / m)
            return y

    class ConvNet(nn.Module):
        def __init__(self, stacks, hidden, classes):
            super().__init__()
            convs, norms, self.pool_after = [], [], []
            c, side = 3, 32
            for channels, count in stacks:
                for j in range(count):
                    convs.append(nn.Conv2d(c, channels, 3, stride=1, padding=1))
                    norms.append(GhostBatchNorm2d(channels))
                    self.pool_after.append(j + 1 == count)
                    c = channels
                side //= 2
            self.convs, self.norms = nn.ModuleList(convs), nn.ModuleList(norms)
            dense, features = [], c * side * side
            for width in hidden + [classes]:
                dense.append(nn.Linear(features, width))
                features = width
            self.dense = nn.ModuleList(dense)
            for m in self.modules():
                if isinstance(m, (nn.Conv2d, nn.Linear)):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.zeros_(m.bias)
            if channels_last:
                for conv in self.convs:
                    conv.weight.data = conv.weight.data.contiguous(memory_format=torch.channels_last)

        def forward(self, x):
            if channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            for conv, norm, pool in zip(self.convs, self.norms, self.pool_after):
                x = torch.relu_(norm(conv(x)))
                if pool:
                    x = F.max_pool2d(x, 2)
            x = x.flatten(1)
            for layer in self.dense[:-1]:
                x = torch.relu(layer(x))
            return self.dense[-1](x)

    stacks, hidden, classes = MODELS[model]
    return ConvNet(stacks, hidden, classes), classes


def child(args):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    classes = MODELS[args.model][2]
    x_all = torch.rand(DATASET_SIZE, 3, 32, 32).to(device)
    y_all = torch.randint(classes, (DATASET_SIZE,)).to(device)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    def make_step(batch, alpha):
        model, _ = make_net(torch, args.model, bool(args.channels_last))
        model.to(device).train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
        sb = rs.BatchStream(torch, DATASET_SIZE, batch, args.seed + 1)
        sbp = rs.BatchStream(torch, DATASET_SIZE, batch, args.seed + 2) if alpha != 1.0 else None

        def loss(stream):
            idx = stream.next().to(device)
            return F.cross_entropy(model(x_all.index_select(0, idx)), y_all.index_select(0, idx))

        def step():
            opt.zero_grad()
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
            sync()

        return step

    def warm_up(fn):
        t0, last, i = time.perf_counter(), 0.0, 0
        while i < 2 or time.perf_counter() - t0 < args.warmup_seconds:
            t = time.perf_counter()
            fn()
            last = time.perf_counter() - t
            i += 1
        return last

    def per_call(fn, calls):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - t) / calls

    if args.profile:
        # Per-operator traces (legacy profiler, as nesgd_bench --profile's RecordProfile) instead of timing.
        os.makedirs(args.profile, exist_ok=True)
        for batch in args.batch_sizes:
            for alpha in args.alphas:
                fn = make_step(batch, alpha)
                warm_up(fn)
                path = os.path.join(args.profile, f"pytorch-{args.model}-B{batch}-a{alpha:g}.trace.json")
                t = time.perf_counter()
                with torch.autograd.profiler.profile(use_kineto=False) as prof:
                    for _ in range(args.profile_steps):
                        fn()
                print(f"  B={batch} alpha={alpha:g}: {args.profile_steps} steps in {time.perf_counter() - t:.3f} s "
                      f"(profiled) -> {path}", file=sys.stderr)
                prof.export_chrome_trace(path)
        json.dump({"profile": args.profile}, sys.stdout)
        sys.stdout.write("\n")
        return

    rows = []
    for batch in args.batch_sizes:
        steps = [(alpha, make_step(batch, alpha)) for alpha in args.alphas]
        calls = {alpha: max(1, int(-(-args.min_block_seconds // max(warm_up(fn), 1e-9)))) for alpha, fn in steps}
        times = {alpha: [] for alpha, _ in steps}
        for _ in range(args.repeats):
            for alpha, fn in steps:
                times[alpha].append(per_call(fn, calls[alpha]))
        for alpha, _ in steps:
            counted = batch if alpha == 1.0 else 2 * batch
            med = statistics.median(times[alpha])
            rows.append({"batch": batch, "alpha": alpha, "samples_per_step": counted, "step_seconds": med,
                         "step_seconds_per_repeat": times[alpha], "samples_per_second": counted / med,
                         "noise": (max(times[alpha]) - min(times[alpha])) / med})
    import ctypes
    try:
        ob = ctypes.CDLL("libopenblas.so.0")
        ob.openblas_get_config.restype = ctypes.c_char_p
        blas = {"config": ob.openblas_get_config().decode(), "threads": ob.openblas_get_num_threads()}
    except OSError:
        blas = {"config": "unknown", "threads": -1}
    json.dump({"torch": torch.__version__, "torch_threads": torch.get_num_threads(), "blas": blas,
               "model": args.model, "device": args.device, "channels_last": bool(args.channels_last), "rows": rows},
              sys.stdout)
    sys.stdout.write("\n")


def parent(args):
    results = []
    settings = [(v, h, a, b) for v in args.blas_variants for h in args.malloc_options
                for a in args.thread_options for b in args.blas_thread_options]
    if args.profile and len(settings) > 1:
        # The trace file names carry model, B and alpha only: a second setting would overwrite the first.
        sys.exit("reference_conv.py: --profile traces one setting: give one value each of --malloc-options "
                 "(retain, as nesgd_bench runs), --thread-options, --blas-thread-options and --blas-variants")
    for variant, heap, aten, blas in settings:
        s = {"torch_threads": aten, "openblas_threads": blas, "blas_build": variant, "malloc": heap}
        env = rs.malloc_env(dict(os.environ, OPENBLAS_NUM_THREADS=str(blas), OMP_NUM_THREADS=str(aten)), heap)
        libdir = rs.OPENBLAS_DIRS[variant]
        if libdir:
            env["LD_LIBRARY_PATH"] = libdir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--model", args.model,
               "--threads", str(aten), "--batch-sizes", ",".join(map(str, args.batch_sizes)),
               "--alphas", ",".join(map(str, args.alphas)), "--repeats", str(args.repeats),
               "--min-block-seconds", str(args.min_block_seconds), "--warmup-seconds",
               str(args.warmup_seconds), "--seed", str(args.seed), "--device", args.device,
               "--channels-last", str(args.channels_last)]
        if args.profile:
            cmd += ["--profile", args.profile, "--profile-steps", str(args.profile_steps)]
        print(f"reference_conv.py: {args.model}, torch threads {aten}, OpenBLAS threads {blas}, "
              f"{variant} OpenBLAS, heap {heap}", file=sys.stderr)
        out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
        results.append(dict(s, **json.loads(out.strip().splitlines()[-1])))
    if args.profile:
        return
    report = {"tool": "reference_conv.py", "command": " ".join(sys.argv), "python": sys.version.split()[0],
              "model": args.model, "settings": results,
              "best": rs.best_per_point(results, ("torch_threads", "openblas_threads", "blas_build", "malloc"))}
    print(f"| B | alpha | PyTorch-Python {args.model} samples/s (best) | best setting (torch / OpenBLAS threads / build / "
          "heap) |")
    print("|---:|---:|---:|---|")
    for row in report["best"]:
        print(f"| {row['batch']} | {row['alpha']:g} | {row['samples_per_second']:.1f} | "
              f"{row['torch_threads']} / {row['openblas_threads']} / {row['blas_build']} / {row['malloc']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(MODELS), default="c1")
    p.add_argument("--batch-sizes", type=lambda s: rs.parse_list(s, int), default=[100, 500])
    p.add_argument("--alphas", type=lambda s: rs.parse_list(s, float), default=[1.0, 2.5])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--min-block-seconds", type=float, default=1.0)
    p.add_argument("--warmup-seconds", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--quick", action="store_true", help="3 repeats of short blocks: a smoke run")
    p.add_argument("--thread-options", type=lambda s: rs.parse_list(s, int), default=[os.cpu_count() or 1],
                   help="values tried for torch.set_num_threads (default: all cores)")
    p.add_argument("--blas-thread-options", type=lambda s: rs.parse_list(s, int), default=[1],
                   help="values tried for OPENBLAS_NUM_THREADS (default 1)")
    p.add_argument("--malloc-options", type=lambda s: rs.parse_list(s, str), default=["default", "retain"],
                   help="heap policies to try: default (glibc's), retain (nesgd's, via GLIBC_TUNABLES)")
    p.add_argument("--blas-variants", type=lambda s: rs.parse_list(s, str), default=["system"],
                   help="OpenBLAS builds to try: system, pthread, openmp (via LD_LIBRARY_PATH)")
    p.add_argument("--channels-last", type=int, choices=[0, 1], default=1, help="NHWC activations (nesgd's default)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--profile", help="instead of timing, write per-operator traces (Chrome format) of "
                   "--profile-steps steps per (B, alpha) into this folder (bench/profile_compare.py)")
    p.add_argument("--profile-steps", type=int, default=5)
    p.add_argument("--json", help="write every setting's results and the best per (B, alpha) here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.repeats, args.min_block_seconds, args.warmup_seconds = min(args.repeats, 3), 0.2, 0.2
    for v in args.blas_variants:
        if v not in rs.OPENBLAS_DIRS:
            p.error(f"--blas-variants: unknown build '{v}': use {', '.join(rs.OPENBLAS_DIRS)}")
    child(args) if args.child else parent(args)


if __name__ == "__main__":
    main()
