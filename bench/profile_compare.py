#!/usr/bin/python3
"""Sets per-operator profiles of nesgd's training step beside PyTorch-Python's.

    build/nesgd_bench --model c1 --batch-sizes 100 --alphas 1 --profile prof
    /usr/bin/python3 bench/reference_conv.py --model c1 --batch-sizes 100 --alphas 1 --profile prof
    /usr/bin/python3 bench/profile_compare.py prof/nesgd-c1-B100-a1.trace.json prof/pytorch-c1-B100-a1.trace.json

Both traces are Chrome-format files of the legacy autograd profiler (nesgd:
RecordProfile; Python: torch.autograd.profiler.profile(use_kineto=False)).
For each operator name: calls, total (inclusive) and self time in ms summed
over the profiled steps; self time is an event's duration minus that of the
events nested directly inside it on the same thread. Rows are sorted by the
larger self time of the two; the last line sums self time over all events.

Profile both under the same heap policy (nesgd_bench applies nesgd's
"retain"; give reference_conv.py --malloc-options retain). Under glibc's
defaults the profiler's own event records sit between freed tensors and push
the heap to fresh pages, so allocation-heavy operators (batch norm, ReLU
backward, fill_) look several times slower than they are when timed without
the profiler: compare such rows only under "retain" (docs/PERFORMANCE.md).
"""
import argparse
import collections
import json
import sys


def load(path):
    with open(path) as f:
        text = f.read().strip()
    # The legacy writer may leave a trailing comma before the closing bracket.
    try:
        events = json.loads(text)
    except json.JSONDecodeError:
        events = json.loads(text.rstrip("]").rstrip().rstrip(",") + "]")
    if isinstance(events, dict):
        events = events.get("traceEvents", [])
    return [e for e in events if e.get("ph") == "X" and "dur" in e]


def aggregate(events):
    """name -> [calls, total_us, self_us]."""
    out = collections.defaultdict(lambda: [0, 0.0, 0.0])
    by_thread = collections.defaultdict(list)
    for e in events:
        by_thread[(e.get("pid"), e.get("tid"))].append(e)
    for evs in by_thread.values():
        evs.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
        stack = []  # [end, event, child_time]
        def close(item):
            end, e, child = item
            row = out[e["name"]]
            row[0] += 1
            row[1] += float(e["dur"])
            row[2] += float(e["dur"]) - child
        for e in evs:
            ts, dur = float(e["ts"]), float(e["dur"])
            while stack and stack[-1][0] <= ts:
                close(stack.pop())
            if stack:
                stack[-1][2] += dur
            stack.append([ts + dur, e, 0.0])
        while stack:
            close(stack.pop())
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("ours", help="nesgd_bench --profile trace")
    p.add_argument("theirs", help="reference_conv.py --profile trace")
    p.add_argument("--top", type=int, default=30)
    a = p.parse_args()
    ours, theirs = aggregate(load(a.ours)), aggregate(load(a.theirs))
    names = sorted(set(ours) | set(theirs), key=lambda n: -max(ours.get(n, [0, 0, 0])[2], theirs.get(n, [0, 0, 0])[2]))
    print("| operator | calls ours / PyTorch | total ms ours / PyTorch | self ms ours / PyTorch | self ours - PyTorch ms |")
    print("|---|---:|---:|---:|---:|")
    z = [0, 0.0, 0.0]
    for n in names[: a.top]:
        o, t = ours.get(n, z), theirs.get(n, z)
        print(f"| {n} | {o[0]} / {t[0]} | {o[1] / 1e3:.1f} / {t[1] / 1e3:.1f} | {o[2] / 1e3:.1f} / {t[2] / 1e3:.1f} | "
              f"{(o[2] - t[2]) / 1e3:+.1f} |")
    so, st = sum(v[2] for v in ours.values()), sum(v[2] for v in theirs.values())
    print(f"| **all events** | {sum(v[0] for v in ours.values())} / {sum(v[0] for v in theirs.values())} | | "
          f"{so / 1e3:.1f} / {st / 1e3:.1f} | {(so - st) / 1e3:+.1f} |")


if __name__ == "__main__":
    sys.exit(main())
