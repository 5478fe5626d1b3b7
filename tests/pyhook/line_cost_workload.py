"""The workload of test_lines: lines of known cost. Its line numbers are
asserted by the test (LINE_* below name them); keep them in step."""

import json
import sys
import time

SLEEP = 0.05


def callee(n):
    s = 0
    for i in range(n):
        s += i
    return s


def gen(n):
    for i in range(n):
        yield i


def fails():
    raise ValueError("raised on purpose")


def work(loops):
    before = time.perf_counter_ns()
    t0 = time.perf_counter_ns(); time.sleep(SLEEP); slept = time.perf_counter_ns() - t0  # LINE_SLEEP  # noqa: E702
    around = time.perf_counter_ns() - before
    total = callee(200)  # LINE_CALL
    for i in range(loops):  # LINE_LOOP
        total += i  # LINE_LOOP_BODY
    for v in gen(3):  # LINE_GEN
        total += v
    try:
        fails()  # LINE_FAILS
    except ValueError:
        total += 1
    return total, slept, around


def rec(n):
    if n == 0:
        return 0
    return rec(n - 1) + 1  # LINE_REC


if __name__ == "__main__":
    loops = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    _, slept, around = work(loops)
    rec(5)
    print(json.dumps({"slept_ns": slept, "around_ns": around}))
