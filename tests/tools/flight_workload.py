"""A call-heavy program for the flight-recorder tests: fib for SECONDS
(or until a file named STOP exists), then exactly FINAL calls of
final_call(i), whose count it writes to COUNT_FILE before it exits.

    python flight_workload.py SECONDS COUNT_FILE [FINAL] [--snapshot OUT]

With --snapshot, it also calls tracestore.snapshot(OUT) from inside the
program after the fib loop, and writes the number of final_call calls made
before it into COUNT_FILE.before.
"""

import os
import sys
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def final_call(i):
    return i


def main():
    seconds = float(sys.argv[1])
    count_file = sys.argv[2]
    final = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3][0] != "-" \
        else 10000
    snapshot = sys.argv[sys.argv.index("--snapshot") + 1] \
        if "--snapshot" in sys.argv else None
    stop = count_file + ".stop"
    end = time.time() + seconds
    rounds = 0
    while time.time() < end and not os.path.exists(stop):
        fib(15)
        rounds += 1
        if rounds % 50 == 0:
            with open(count_file + ".rounds", "w") as f:
                f.write(str(rounds))
    made = 0
    if snapshot is not None:
        for i in range(final // 2):
            final_call(i)
            made += 1
        import tracestore
        tracestore.snapshot(snapshot)
        with open(count_file + ".before", "w") as f:
            f.write(str(made))
    for i in range(made, final):
        final_call(i)
        made += 1
    with open(count_file, "w") as f:
        f.write(str(made))


main()
