"""A process tree for tests/tools/test_process_tree.py: a parent that runs
work() itself, in a multiprocessing Pool under each start method, in a
ProcessPoolExecutor, and in a Python child launched through `sh -c`. Every
process counts its own calls of work() and leaf(); the parent prints one
JSON object: {pid: {"ppid": ..., "work": n, "leaf": n}} for every process
that ran work().

    python tree_workload.py            # all of it (and an os.fork child)
    python tree_workload.py child N    # the `sh -c` child: work(N), prints
                                       # its counts as JSON
    python tree_workload.py hold N     # work(N), prints its counts, then
                                       # waits on stdin (to be SIGKILLed)
    python tree_workload.py live DIR N # N stages, each started by the file
                                       # DIR/go-<i>: a `sh -c` child and a
                                       # fork Pool; DIR/done-<i> after each
    python tree_workload.py kill       # children: one SIGKILLed after
                                       # work(40), one SIGTERMed after
                                       # work(30), one that exits with
                                       # status 3; prints their counts
"""

import concurrent.futures
import json
import multiprocessing
import os
import shlex
import signal
import subprocess
import sys
import time

COUNTS = {"work": 0, "leaf": 0}


def _forked():
    # A forked child starts with its parent's counts: it counts its own.
    COUNTS.update(work=0, leaf=0)


os.register_at_fork(after_in_child=_forked)


def leaf(i):
    COUNTS["leaf"] += 1
    return i * 2


def work(n):
    COUNTS["work"] += 1
    total = 0
    for i in range(n):
        total += leaf(i)
    # The counts as of this call's return: the last a process sends are its
    # totals (no call of either function follows).
    return os.getpid(), os.getppid(), dict(COUNTS), total


def merge(seen, results):
    for pid, ppid, counts, _ in results:
        prev = seen.get(pid)
        if prev is None or prev["work"] < counts["work"]:
            seen[pid] = dict(counts, ppid=ppid)


def main():
    seen = {}
    merge(seen, [work(5)])
    for method in ("fork", "spawn", "forkserver"):
        ctx = multiprocessing.get_context(method)
        pool = ctx.Pool(2)
        merge(seen, pool.map(work, range(10, 20), chunksize=1))
        pool.close()
        pool.join()
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as ex:
        merge(seen, list(ex.map(work, range(3, 9))))
    child = sh_child(7)
    seen[child.pop("pid")] = child
    # os.fork without exec: the child counts work(6) and leaves the way
    # forked children usually do, through os._exit (so its trace is never
    # closed: it shows as killed, with every call it made).
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _, ppid, counts, _ = work(6)
        os.write(w, json.dumps(dict(counts, ppid=ppid)).encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        seen[pid] = dict(json.loads(f.read()), forked=True)
    os.waitpid(pid, 0)
    merge(seen, [work(5)])
    print(json.dumps({str(k): v for k, v in seen.items()}))


def child(n):
    pid, ppid, counts, _ = work(n)
    print(json.dumps(dict(counts, pid=pid, ppid=ppid)))


def hold(n):
    pid, ppid, counts, _ = work(n)
    print(json.dumps(dict(counts, pid=pid, ppid=ppid)), flush=True)
    sys.stdin.read()


def sh_child(n):
    cmd = "%s %s child %d" % (shlex.quote(sys.executable),
                              shlex.quote(os.path.abspath(__file__)), n)
    out = subprocess.run(["sh", "-c", cmd + "; true"], check=True,
                         stdout=subprocess.PIPE).stdout
    return json.loads(out)


def live(directory, stages):
    seen = {}
    merge(seen, [work(3)])
    for i in range(stages):
        while not os.path.exists(os.path.join(directory, "go-%d" % i)):
            time.sleep(0.01)
        c = sh_child(5 + i)
        seen[c.pop("pid")] = c
        pool = multiprocessing.get_context("fork").Pool(1)
        merge(seen, pool.map(work, [20, 30, 40], chunksize=1))
        pool.close()
        pool.join()
        with open(os.path.join(directory, "done-%d" % i), "w"):
            pass
    merge(seen, [work(3)])
    print(json.dumps({str(k): v for k, v in seen.items()}))


def kill():
    seen = {}
    merge(seen, [work(4)])
    for n, how in ((40, signal.SIGKILL), (30, signal.SIGTERM)):
        p = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                              "hold", str(n)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        c = json.loads(p.stdout.readline())
        os.kill(p.pid, how)
        p.wait()
        p.stdin.close()
        p.stdout.close()
        seen[c.pop("pid")] = dict(c, end=-p.returncode)
    p = subprocess.run([sys.executable, os.path.abspath(__file__), "exit",
                        "3"], stdout=subprocess.PIPE)
    c = json.loads(p.stdout)
    seen[c.pop("pid")] = dict(c, end=p.returncode)
    print(json.dumps({str(k): v for k, v in seen.items()}))


def exit_with(status):
    pid, ppid, counts, _ = work(3)
    print(json.dumps(dict(counts, pid=pid, ppid=ppid)))
    sys.exit(status)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "hold":
        hold(int(sys.argv[2]))
    elif len(sys.argv) > 1 and sys.argv[1] == "live":
        live(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "kill":
        kill()
    elif len(sys.argv) > 1 and sys.argv[1] == "exit":
        exit_with(int(sys.argv[2]))
    else:
        main()
