"""What --etw costs while no ETW session listens: fib(25) recorded with and
without the provider present (disabled), interleaved, in one run.

    PYTHONPATH=build/python python bench/pyhook/etw_overhead.py [--rounds N]

Prints min-of-rounds wall times and the ratio; the target is within 2 %.
"""

import argparse
import shutil
import sys
import tempfile
import time

import tracestore

sys.dont_write_bytecode = True


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def run(tmp, i, etw, n):
    out = "%s/t%d-%s.trace" % (tmp, i, etw)
    tracestore.enable(out, hook="eval-frame", etw=etw)
    t0 = time.perf_counter()
    fib(n)
    dt = time.perf_counter() - t0
    tracestore.disable()
    shutil.rmtree(out)
    return dt


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--n", type=int, default=25)
    a = p.parse_args()
    tmp = tempfile.mkdtemp()
    best = {False: 1e9, "capture-disabled": 1e9}
    try:
        for i in range(a.rounds):
            for etw in (False, "capture-disabled") if i % 2 else \
                    ("capture-disabled", False):
                best[etw] = min(best[etw], run(tmp, i, etw, a.n))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ratio = best["capture-disabled"] / best[False]
    print("CPython %s  fib(%d) traced: %.1f ms; with the ETW provider present "
          "but disabled: %.1f ms; ratio %.3f (target <= 1.02)"
          % (sys.version.split()[0], a.n, best[False] * 1e3,
             best["capture-disabled"] * 1e3, ratio))


if __name__ == "__main__":
    main()
