"""Thread start+join under `record`, and the files a thread-heavy program
leaves (issue 13), in one run:

    PYTHONPATH=build/python python3 bench/pyhook/threads.py [--threads 300]
        [--rounds 5] [--many 10000]

For each mode (untraced; record, every thread recorded; record -i with a
filter that matches nothing) it runs a program that starts and joins
`--threads` threads one after the other, each calling a function, and
prints the cost per thread (min of `--rounds` runs, timed inside the
program, so without start-up), wall and CPU time (all of the process's
threads), and the difference to untraced. On a busy machine the wall time
moves with the load; the CPU time much less. Then it records a program that
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
t0, c0 = time.perf_counter(), time.process_time()
for _ in range(n):
    t = threading.Thread(target=body); t.start(); t.join()
print((time.perf_counter() - t0) / n * 1e6, (time.process_time() - c0) / n * 1e6)
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
        wall = {m: float("inf") for m in modes}
        cpu = dict(wall)
        for r in range(args.rounds):
            for m, cmd in modes.items():
                out = os.path.join(tmp, "t%d-%d.trace" % (r, len(m)))
                w, c = run(cmd(out) + [str(args.threads)]).split()[-2:]
                wall[m] = min(wall[m], float(w))
                cpu[m] = min(cpu[m], float(c))
        print("Python %s, %d threads started and joined one by one, min of %d"
              % (sys.version.split()[0], args.threads, args.rounds))
        print("%-20s %10s %10s %7s %10s %10s %7s" % (
            "mode", "wall us", "+us", "ratio", "cpu us", "+us", "ratio"))
        for m in modes:
            print("%-20s %10.1f %10.1f %7.2f %10.1f %10.1f %7.2f" % (
                m, wall[m], wall[m] - wall["untraced"],
                wall[m] / wall["untraced"], cpu[m], cpu[m] - cpu["untraced"],
                cpu[m] / cpu["untraced"]))
        out = os.path.join(tmp, "many.trace")
        run([py, "-m", "tracestore", "record", "-q", "-o", out, "--", many,
             str(args.many)])
        files = sorted(os.listdir(out))
        stores = [f for f in files if f.startswith("events.")]
        print("%d short threads (16 alive at once): the trace holds %d files "
              "(%d event stores)" % (args.many, len(files), len(stores)))


if __name__ == "__main__":
    main()
