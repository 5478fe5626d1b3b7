#!/usr/bin/env python3
"""Instructions per Python call, per recording mode, counted by callgrind.

    python3 bench/pyhook/callgrind_calls.py [--python EXE ...] [--build DIR]

Runs fib(20) 3 times and 9 times under `valgrind --tool=callgrind` for each
mode (untraced, the eval-frame floor, the bare sys.monitoring callback floor on
3.12+, every backend, stack mode) and prints
(instructions of 9 runs - instructions of 3) / (calls of 9 - calls of 3):
what one call costs, start-up and tracing set-up cancelled out. Instruction
counts repeat exactly for the same binary and inputs, whatever else the
machine is doing, so they compare builds where wall time cannot.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir, "build"))
FIB_CALLS = 21891  # calls of fib in one fib(20)

CHILD = r"""
import sys
sys.path.insert(0, %(path)r)
mode, reps, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)
if mode == "monitoring-floor":
    import _monitoring_floor
    _monitoring_floor.start()
elif mode != "untraced":
    import tracestore
    if mode == "stack":
        tracestore.enable(out, mode="stack", perf_files=False, quiet=True)
    else:
        tracestore.enable(out, hook=mode, quiet=True)
for _ in range(reps):
    fib(20)
"""


def collected(python, path, mode, reps):
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "fib.py")
        with open(script, "w") as f:
            f.write(CHILD % {"path": path})
        p = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
             python, script, mode, str(reps), os.path.join(tmp, "t.trace")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            universal_newlines=True)
        m = re.search(r"Collected : (\d+)", p.stderr)
        if p.returncode != 0 or m is None:
            raise RuntimeError("%s %s: %s" % (python, mode, p.stderr[-2000:]))
        return int(m.group(1))


def modes_of(python, path):
    p = subprocess.run([python, "-c", "import sys; sys.path.insert(0, %r); "
                        "from tracestore import _tracestore; "
                        "print(' '.join(_tracestore.hooks()))" % path],
                       stdout=subprocess.PIPE, universal_newlines=True)
    hooks = p.stdout.split()
    floor = ["monitoring-floor"] if "monitoring" in hooks else []
    return ["untraced", "_floor"] + floor + hooks + ["stack"]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", action="append", required=True,
                    help="interpreter (repeatable)")
    ap.add_argument("--build", default=BUILD, help="build directory")
    args = ap.parse_args(argv)
    path = os.path.join(os.path.abspath(args.build), "python")
    for python in args.python:
        cells = []
        for mode in modes_of(python, path):
            per_call = (collected(python, path, mode, 9) -
                        collected(python, path, mode, 3)) / (6 * FIB_CALLS)
            cells.append("%s %.0f" % ("floor" if mode == "_floor" else mode,
                                      per_call))
        v = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                           stdout=subprocess.PIPE, universal_newlines=True)
        print("%s: %s" % (v.stdout.strip(), ", ".join(cells)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
