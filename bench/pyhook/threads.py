"""Thread start+join under `record`, and the files a thread-heavy program
leaves (issue 13), in one run:

    PYTHONPATH=build/python python3 bench/pyhook/threads.py [--threads 300]
        [--rounds 5] [--many 10000]

For each mode (untraced; record, every thread recorded; record -i with a
filter that matches nothing) it runs a program that starts and joins
`--threads` threads one after the other, each calling a function, and
prints the cost per thread (min of `--rounds` runs, timed inside the
program) and the difference to untraced. Then it records a program that
runs `--many` short threads (16 alive at once) and counts the files of its
trace.
"""

import argparse
import os
import subprocess
import sys
import tempfile

WORKLOAD = r'''
import sys, threading, time
def work(): return sum(range(10))
def body(): work()
n = int(sys.argv[1])
t0 = time.perf_counter()
for _ in range(n):
    t = threading.Thread(target=body); t.start(); t.join()
print((time.perf_counter() - t0) / n * 1e6)
'''

MANY = r'''
import sys, threading
def work(): return 1
n, alive = int(sys.argv[1]), 16
for i in range(0, n, alive):
    ts = [threading.Thread(target=work) for _ in range(min(alive, n - i))]
    for t in ts: t.start()
    for t in ts: t.join()
'''


def run(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         env=env)
    return out.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=300)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--many", type=int, default=10000)
    args = p.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "threads.py")
        with open(script, "w") as f:
            f.write(WORKLOAD)
        many = os.path.join(tmp, "many.py")
        with open(many, "w") as f:
            f.write(MANY)
        modes = {
            "untraced": lambda o: [py, script],
            "record": lambda o: [py, "-m", "tracestore", "record", "-q",
                                 "-o", o, "--", script],
            "record -i nomatch": lambda o: [py, "-m", "tracestore", "record",
                                            "-q", "-i", "nomatch", "-o", o,
                                            "--", script],
        }
        best = {m: float("inf") for m in modes}
        for r in range(args.rounds):
            for m, cmd in modes.items():
                out = os.path.join(tmp, "t%d-%d.trace" % (r, len(m)))
                us = float(run(cmd(out) + [str(args.threads)]).split()[-1])
                best[m] = min(best[m], us)
        base = best["untraced"]
        print("Python %s, %d threads started and joined one by one, min of %d"
              % (sys.version.split()[0], args.threads, args.rounds))
        print("%-20s %12s %14s %8s" % ("mode", "us/thread", "+us/thread",
                                      "ratio"))
        for m in modes:
            print("%-20s %12.1f %14.1f %8.2f" % (m, best[m], best[m] - base,
                                                best[m] / base))
        out = os.path.join(tmp, "many.trace")
        run([py, "-m", "tracestore", "record", "-q", "-o", out, "--", many,
             str(args.many)])
        files = sorted(os.listdir(out))
        stores = [f for f in files if f.startswith("events.")]
        print("%d short threads (16 alive at once): the trace holds %d files "
              "(%d event stores)" % (args.many, len(files), len(stores)))


if __name__ == "__main__":
    main()
