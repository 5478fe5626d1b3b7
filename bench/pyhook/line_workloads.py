"""The functions lines_overhead.py profiles line by line: every tool is
given exactly these (tracestore with include=["line_workloads"],
line_profiler with add_function on each, the settrace counter with a filter
on this file). Line-dense on purpose: a line event per few bytecodes."""


def branchy(n):
    total = 0
    for i in range(n):
        if i % 3 == 0:
            total += i
        elif i % 3 == 1:
            total -= 1
        else:
            total ^= i
    return total


def helper(x):
    return x * 2 + 1


def caller(n):
    s = 0
    for i in range(n):
        s += helper(i)
    return s


def gen(n):
    for i in range(n):
        yield i * i


def consume(n):
    total = 0
    for v in gen(n):
        total += v
    return total


FUNCTIONS = [branchy, helper, caller, gen, consume]
