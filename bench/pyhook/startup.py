"""What `record` adds to an empty script's wall time, beside cProfile, in
one run (issue 13):

    PYTHONPATH=build/python python3 bench/pyhook/startup.py [--runs 20]

Each command runs `--runs` times, interleaved; the minimum counts.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=20)
    args = p.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.py")
        open(empty, "w").close()
        trace = os.path.join(tmp, "e.trace")
        commands = {
            "python empty.py": [py, empty],
            "python -m cProfile empty.py": [py, "-m", "cProfile", "-o",
                                            os.path.join(tmp, "prof"), empty],
            "python -m tracestore record": [py, "-m", "tracestore", "record",
                                            "-q", "-o", trace, "--", empty],
        }
        best = dict.fromkeys(commands, float("inf"))
        for _ in range(args.runs):
            for name, cmd in commands.items():
                shutil.rmtree(trace, True)
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                best[name] = min(best[name], time.perf_counter() - t0)
        base = best["python empty.py"]
        print("Python %s, an empty script, min of %d runs"
              % (sys.version.split()[0], args.runs))
        for name, t in best.items():
            print("%-30s %7.1f ms  (+%.1f ms)" % (name, t * 1e3,
                                                 (t - base) * 1e3))


if __name__ == "__main__":
    main()
