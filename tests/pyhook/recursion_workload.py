"""Deep recursion, for test_recursion.py.

    python recursion_workload.py deep DEPTH...     # direct and mutual
    python recursion_workload.py limit LIMIT       # where RecursionError hits
    python recursion_workload.py through-c LIMIT   # recursion through map()
    python recursion_workload.py thread DEPTH      # in a thread with a 256 KiB stack
"""

import sys


def down(n):
    return 0 if n == 0 else 1 + down(n - 1)


def ping(n):
    return 0 if n == 0 else 1 + pong(n - 1)


def pong(n):
    return 0 if n == 0 else 1 + ping(n - 1)


depth = 0


def unbounded():
    global depth
    depth += 1
    unbounded()


def unbounded_through_c(_=None):
    global depth
    depth += 1
    list(map(unbounded_through_c, [0]))


def main(argv):
    mode, values = argv[0], [int(v) for v in argv[1:]]
    if mode == "deep":
        sys.setrecursionlimit(120000)
        for d in values:
            print(d, down(d), ping(d), flush=True)
        return 0
    if mode == "thread":
        import threading
        sys.setrecursionlimit(120000)
        threading.stack_size(256 * 1024)
        out = []
        t = threading.Thread(target=lambda: out.append(down(values[0])))
        t.start()
        t.join()
        print(out, flush=True)
        return 0
    sys.setrecursionlimit(values[0])
    try:
        (unbounded if mode == "limit" else unbounded_through_c)()
    except RecursionError as e:
        print("RecursionError at depth", depth, e)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
