#!/usr/bin/env python3
"""Flight-recorder mode beside normal mode, in one run (issue 17).

1. Append cost: runs append_bench's BM_Append and BM_AppendRing (one and two
   threads; CPU time of the appending thread and end-to-end real time) and
   prints ring / normal per row. A ring reuses chunks that are already
   allocated, mapped and faulted in, where normal mode needs fresh pages
   from the kernel for every chunk.
2. Traced / untraced overhead: fib(25) repeated (workloads.py), untraced,
   recorded normally and recorded with max_size (small enough that the ring
   wraps many times), interleaved, best of --rounds; prints each traced
   time as a ratio to untraced and ring / normal.

A measurement, not a test: exit status 0 whatever the figures.

    PYTHONPATH=build/python python3 bench/pyhook/flight_recorder.py \\
        [--append-bench build/bin/append_bench] [--rounds 5] [--quick]
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import workloads  # noqa: E402


def append_costs(exe, quick):
    """{(name, threads, real): ns per append} from append_bench."""
    args = [exe, "--benchmark_filter=BM_Append(Ring)?/",
            "--benchmark_min_time=%s" % ("0.05" if quick else "1")]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True)
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
        return {}
    out = {}
    for line in r.stdout.splitlines():
        m = re.match(r"(BM_Append(?:Ring)?)/(real_time/)?threads:(\d+)"
                     r"(/real_time)?\s+([\d.]+) ns\s+([\d.]+) ns\s+\d+"
                     r".*items_per_second=([\d.]+)([kMG]?)/s", line)
        if not m:
            continue
        scale = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[m.group(8)]
        rate = float(m.group(7)) * scale
        real = bool(m.group(2) or m.group(4))
        out[(m.group(1), int(m.group(3)), real)] = rate
    return out


def time_fib(runs, mode, trace_dir, max_size):
    import tracestore
    path = os.path.join(trace_dir, "%s.trace" % mode)
    shutil.rmtree(path, ignore_errors=True)
    if mode != "untraced":
        tracestore.enable(path, quiet=True,
                          max_size=max_size if mode == "ring" else None)
    t0 = time.perf_counter()
    workloads.fib_runs(runs)
    elapsed = time.perf_counter() - t0
    if mode != "untraced":
        tracestore.disable()
    size = 0
    if os.path.isdir(path):
        for name in os.listdir(path):
            if name.startswith("events."):
                size += os.stat(os.path.join(path, name)).st_blocks * 512
        shutil.rmtree(path)
    return elapsed, size


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_bench = os.path.join(here, "..", "..", "build", "bin",
                                 "append_bench")
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--append-bench", default=default_bench)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runs", type=int, default=40,
                   help="fib(25) per timing (each ~0.5 M events)")
    p.add_argument("--max-size", default="32M")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if args.quick:
        args.rounds, args.runs = 1, 4

    print("== append cost (append_bench), appends per second ==")
    costs = append_costs(args.append_bench, args.quick) \
        if os.path.exists(args.append_bench) else {}
    if not costs:
        print("  (append_bench not found at %s)" % args.append_bench)
    for threads in (1, 2):
        for real in (False, True):
            normal = costs.get(("BM_Append", threads, real))
            ring = costs.get(("BM_AppendRing", threads, real))
            if normal and ring:
                print("  %d thread%s, %-9s normal %6.1f M/s  ring %6.1f M/s  "
                      "ring/normal rate %.2f" % (
                          threads, "" if threads == 1 else "s",
                          "real time" if real else "CPU time", normal / 1e6,
                          ring / 1e6, ring / normal))

    print("== fib(25) x %d, %s, best of %d ==" % (
        args.runs, sys.version.split()[0], args.rounds))
    trace_dir = tempfile.mkdtemp(prefix="flight-bench-",
                                 dir=os.environ.get("TRACESTORE_BENCH_DIR"))
    best = {}
    sizes = {}
    try:
        for _ in range(args.rounds):
            for mode in ("untraced", "normal", "ring"):
                t, size = time_fib(args.runs, mode, trace_dir, args.max_size)
                best[mode] = min(best.get(mode, t), t)
                sizes[mode] = size
    finally:
        shutil.rmtree(trace_dir, ignore_errors=True)
    base = best["untraced"]
    for mode in ("untraced", "normal", "ring"):
        print("  %-9s %7.3f s  x%.2f untraced  event files %7.1f MiB" % (
            mode, best[mode], best[mode] / base, sizes[mode] / (1 << 20)))
    print("  ring/normal time %.2f (ring: --max-size %s, wrapping)" % (
        best["ring"] / best["normal"], args.max_size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
