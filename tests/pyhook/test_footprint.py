"""The recorder leaves no footprint on the program (issue 13): signals
reach the program's threads, threads start cheaply and each ended thread
gives back its descriptor, the user's hooks survive, the trace shows the
program and not the tool, and large settings reach children."""

import concurrent.futures
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import unittest

import tracestore
from support import PY, TempDirTest, VERSION, env, record, run

# A process that waits in WAIT, and on each signal its handler interrupts
# the wait (by raising) and says so; after ROUNDS signals it exits 0. It
# waits in the main process, or in a multiprocessing child (fork, spawn).
# The test sends the signals to the waiting process and waits for each
# acknowledgement: a signal the kernel gives to a recorder thread is never
# handled, and the test sees a hang.
WAITER = r'''
import multiprocessing, os, select, signal, sys, threading, time

class Interrupted(Exception):
    pass

def handler(signum, frame):
    raise Interrupted(signum)

def wait(kind, sem, event, pipe_r):
    if kind == "sem":
        sem.acquire()
    elif kind == "sleep":
        time.sleep(3600)
    elif kind == "event":
        event.wait()
    elif kind == "select":
        select.select([pipe_r], [], [])

def waiter(kind, rounds):
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    sem = multiprocessing.Semaphore(0)
    event = threading.Event()
    pipe_r, _ = os.pipe()
    got = 0
    while got < rounds:
        try:
            print("ready", os.getpid(), flush=True)
            wait(kind, sem, event, pipe_r)
        except Interrupted as e:
            got += 1
            print("got", e.args[0], flush=True)
    print("done", flush=True)

if __name__ == "__main__":
    where, kind, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if where == "main":
        waiter(kind, rounds)
    else:
        ctx = multiprocessing.get_context(where)
        p = ctx.Process(target=waiter, args=(kind, rounds))
        p.start()
        p.join()
        sys.exit(p.exitcode)
'''

KINDS = ("sem", "sleep", "event", "select")
ROUNDS = 50


def drive(cmd, rounds, deadline=60):
    """Runs cmd (a WAITER), sends it `rounds` signals (SIGTERM and SIGINT
    in turn) one at a time; returns (acknowledgements, exit status, the
    trouble if any)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, env=env())
    acks, trouble = [], None
    timer = threading.Timer(deadline, p.kill)
    timer.start()
    try:
        for i in range(rounds):
            line = p.stdout.readline().split()
            if not line or line[0] != "ready":
                trouble = "expected ready, got %r" % (line,)
                break
            sig = signal.SIGTERM if i % 2 == 0 else signal.SIGINT
            # Into the wait: a signal just before it starts (after the
            # interpreter's last check) is lost by CPython itself.
            time.sleep(0.05)
            os.kill(int(line[1]), sig)
            line = p.stdout.readline().split()
            if line != ["got", str(int(sig))]:
                trouble = "signal %d: got %r (a hang ends at the deadline)" % (
                    sig, line)
                break
            acks.append(int(line[1]))
        if trouble is None and p.stdout.readline().split() != ["done"]:
            trouble = "no 'done'"
    finally:
        if trouble is not None:
            p.kill()
        _, err = p.communicate()
        timer.cancel()
    if trouble is not None:
        trouble += "; stderr: " + err[-2000:]
    return acks, p.returncode, trouble


class SignalTest(TempDirTest):

    def test_signals_reach_the_program_in_every_wait(self):
        script = self.write("waiter.py", WAITER)
        cases = [(where, kind) for where in ("main", "fork", "spawn")
                 for kind in KINDS]

        def one(case, traced):
            where, kind = case
            program = [script, where, kind, str(ROUNDS)]
            if traced:
                out = self.path("%s-%s.trace" % case)
                cmd = [PY, "-m", "tracestore", "record", "-q",
                       "--follow-children", "-o", out, "--"] + program
            else:
                cmd = [PY] + program
            return drive(cmd, ROUNDS)

        # Small batches: every case at once would starve a 2-core machine.
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            untraced = dict(zip(cases, pool.map(lambda c: one(c, False),
                                                cases)))
            traced = dict(zip(cases, pool.map(lambda c: one(c, True), cases)))
        for case in cases:
            with self.subTest(case=case):
                self.assertIsNone(untraced[case][2])
                self.assertIsNone(traced[case][2])
                self.assertEqual(len(traced[case][0]), ROUNDS)
                self.assertEqual(traced[case][:2], untraced[case][:2])

    def test_default_dispositions_as_untraced(self):
        # No handler: SIGTERM kills, SIGINT raises KeyboardInterrupt; the
        # exit status is the program's, traced or not, in every wait.
        script = self.write("plain.py", r'''
import multiprocessing, os, select, sys, threading, time
kind = sys.argv[1]
sem = multiprocessing.Semaphore(0)
r, _ = os.pipe()
print("ready", os.getpid(), flush=True)
if kind == "sem": sem.acquire()
elif kind == "sleep": time.sleep(3600)
elif kind == "event": threading.Event().wait()
else: select.select([r], [], [])
''')

        def one(args):
            kind, sig, traced = args
            cmd = [PY, script, kind]
            if traced:
                cmd = [PY, "-m", "tracestore", "record", "-q", "-o",
                       self.path("%s-%d.trace" % (kind, sig)), "--",
                       script, kind]
            p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL,
                                 universal_newlines=True, env=env())
            line = p.stdout.readline().split()
            time.sleep(0.05)  # into the wait (see drive())
            os.kill(int(line[1]), sig)
            try:
                return p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return "hang"
            finally:
                p.stdout.close()

        cases = [(k, s) for k in KINDS for s in (signal.SIGTERM,
                                                 signal.SIGINT)]
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            got = list(pool.map(one, [c + (t,) for t in (False, True)
                                      for c in cases]))
        self.assertEqual(got[len(cases):], got[:len(cases)])
        self.assertNotIn("hang", got)

    def test_blocked_signals_stay_pending(self):
        # A program that blocks signals and takes them with sigwait (or
        # looks at sigpending) sees them pending, as untraced: no thread of
        # the recorder takes them meanwhile. (Without the recorder's masks
        # the kernel hands each one to the page filler at once.)
        script = self.write("pending.py", r'''
import multiprocessing, os, signal, sys, time
def work():
    sigs = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, sigs)
    got = []
    for i in range(50):
        sig = signal.SIGTERM if i % 2 == 0 else signal.SIGINT
        os.kill(os.getpid(), sig)
        time.sleep(0.01)  # time for any other thread to take it
        pending = sig in signal.sigpending()
        got.append((pending, signal.sigwait(sigs) == sig))
    print(got.count((True, True)), flush=True)
if __name__ == "__main__":
    if sys.argv[1] == "main":
        work()
    else:
        p = multiprocessing.get_context(sys.argv[1]).Process(target=work)
        p.start(); p.join(); sys.exit(p.exitcode)
''')
        for where in ("main", "fork", "spawn"):
            with self.subTest(where=where):
                untraced = run([PY, script, where], timeout=120)
                self.assertEqual(untraced.stdout.split(), ["50"])
                traced = record(["-q", "--follow-children", "-o",
                                 self.path(where + ".trace")],
                                [script, where], timeout=120)
                self.assertEqual((traced.returncode, traced.stdout),
                                 (0, untraced.stdout), traced.stderr)

    def test_recorder_threads_block_every_signal(self):
        script = self.write("mask.py", r'''
import os, threading
def f(): pass
f()
go = threading.Event()
t = threading.Thread(target=go.wait); t.start()
python_threads = {p.native_id for p in threading.enumerate()}
masks = {}
for tid in os.listdir("/proc/self/task"):
    with open("/proc/self/task/%s/status" % tid) as s:
        for line in s:
            if line.startswith("SigBlk:"):
                masks[int(tid)] = int(line.split()[1], 16)
go.set(); t.join()
others = {t: m for t, m in masks.items() if t not in python_threads}
want = 0
for sig in range(1, 32):
    if sig not in (9, 19):  # SIGKILL and SIGSTOP cannot be blocked
        want |= 1 << (sig - 1)
ours = [masks[p] & (1 << 14) for p in python_threads]  # SIGTERM
print(len(others), all(m & want == want for m in others.values()),
      not any(ours))
''')
        untraced = run([PY, script])
        self.assertEqual(untraced.stdout.split(), ["0", "True", "True"])
        for hook in ("eval-frame", "setprofile"):
            r = record(["-q", "--hook", hook, "-o",
                        self.path(hook + ".trace")], [script])
            self.assertEqual(r.returncode, 0, r.stderr)
            count, blocked, python_unblocked = r.stdout.split()
            self.assertGreaterEqual(int(count), 1)  # the page filler
            self.assertEqual((blocked, python_unblocked), ("True", "True"))


def query(trace, sql):
    r = run([PY, "-m", "tracestore", "query", trace, "--csv", sql])
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    return [line.split(",") for line in r.stdout.splitlines()[1:]]


class ThreadsTest(TempDirTest):

    def test_many_short_threads_under_a_low_descriptor_limit(self):
        # 20,000 threads on one interpreter (the slowest part of the suite
        # otherwise); 3,000 on the others.
        n = 20000 if VERSION == (3, 12) else 3000
        script = self.write("many.py", r'''
import os, sys, threading
n, alive = int(sys.argv[1]), 64
calls = 0
lock = threading.Lock()
def work(k):
    global calls
    with lock:
        calls += 1
    if k:
        work(k - 1)
most_fds = 0
for i in range(0, n, alive):
    ts = [threading.Thread(target=work, args=(j % 3,))
          for j in range(min(alive, n - i))]
    for t in ts: t.start()
    for t in ts: t.join()
    most_fds = max(most_fds, len(os.listdir("/proc/self/fd")))
with open(os.devnull, "w") as f:  # the program's own descriptors still work
    pass
print(calls)
print(most_fds, file=sys.stderr)
''')

        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

        untraced = run([PY, script, str(n)], preexec_fn=low_limit)
        self.assertEqual(untraced.returncode, 0, untraced.stderr)
        trace = self.path("many.trace")
        traced = record(["-q", "-o", trace], [script, str(n)],
                        preexec_fn=low_limit)
        self.assertEqual(traced.returncode, 0, traced.stderr[-2000:])
        self.assertEqual(traced.stdout, untraced.stdout)
        calls = int(traced.stdout)
        self.assertGreater(calls, n)  # k = 0, 1, 2: 1, 2, 3 calls each
        (recorded,), = query(trace, "SELECT count(*) FROM calls "
                                    "WHERE name = 'work'")
        self.assertEqual(int(recorded), calls)
        # Every thread, each with its own calls: none lost, none misplaced.
        rows = query(trace, "SELECT thread_id, count(*) FROM calls "
                            "WHERE name = 'work' GROUP BY thread_id")
        self.assertEqual(len(rows), n)
        self.assertEqual(sorted({int(c) for _, c in rows}), [1, 2, 3])
        (threads,), = query(trace, "SELECT count(*) FROM threads")
        self.assertEqual(int(threads), n + 1)
        # Descriptors: bounded by the threads alive at once, not by n.
        most = int(traced.stderr.split()[-1])
        self.assertLess(most, 64 + 40, traced.stderr[-500:])
        stores = [f for f in os.listdir(trace) if f.startswith("events.")]
        self.assertLessEqual(len(stores), 64 + 2)
        v = run([os.environ.get("TRACESTORE_CLI", "tracestore"), "verify",
                 trace])
        self.assertEqual(v.returncode, 0, v.stderr)


class HooksTest(TempDirTest):

    def test_user_hooks_survive_a_session(self):
        script = self.write("hooks.py", r'''
import sys, threading, tracestore
def prof(*a): pass
def tr(*a): return tr
def cov(frame, event, arg): return None    # a coverage-style tracer
threading.setprofile(prof)
threading.settrace(tr)
sys.settrace(cov)
out = sys.argv[1]
for i, hook in enumerate(sys.argv[2:]):
    with tracestore.tracing("%s.%d" % (out, i), hook=hook, lines=True):
        pass
    assert threading._profile_hook is prof, hook
    assert threading._trace_hook is tr, hook
    if hook != "setprofile" and sys.version_info >= (3, 12):
        assert sys.gettrace() is cov, hook  # lines use sys.monitoring
# A hook the program replaced while tracing is the program's: kept.
with tracestore.tracing(out + ".x", hook="setprofile"):
    threading.setprofile(None)
assert threading._profile_hook is None
sys.settrace(None)
print("ok")
''')
        hooks = ["eval-frame", "setprofile"]
        if VERSION >= (3, 12):
            hooks.append("monitoring")
        r = run([PY, script, self.path("t")] + hooks)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "ok"), r.stderr)

    def test_coverage_style_tracer_untouched(self):
        script = self.write("cov.py", r'''
import sys, tracestore
seen = []
def cov(frame, event, arg):
    seen.append(frame.f_code.co_name)
    return None
sys.settrace(cov)
def g(): pass
with tracestore.tracing(sys.argv[1]):
    g()
g()
sys.settrace(None)
print(seen.count("g"))
''')
        r = run([PY, script, self.path("t.trace")])
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "2"), r.stderr)


class ToolFramesTest(TempDirTest):

    def test_a_trace_shows_the_program_only(self):
        script = self.write("one.py", "def f():\n    pass\nf()\n")
        hooks = ["eval-frame", "setprofile"]
        if VERSION >= (3, 12):
            hooks.append("monitoring")
        # When threading is imported (by a .pth file at start-up, say), the
        # interpreter's exit runs threading._shutdown: not the recorder's.
        startup = run([PY, "-c", "import sys; print('threading' in "
                                 "sys.modules)"]).stdout.strip() == "True"
        for hook in hooks:
            with self.subTest(hook=hook):
                trace = self.path(hook + ".trace")
                r = record(["-q", "--hook", hook, "-o", trace], [script])
                self.assertEqual(r.returncode, 0, r.stderr)
                # The setprofile backend needs threading (threading.
                # setprofile, for new threads), so the same holds there;
                # nothing else of ours.
                other = ("threading" if startup or hook == "setprofile"
                         else "")
                self.assertEqual(
                    query(trace, "SELECT depth, name, module FROM calls "
                                 "WHERE module != '%s' ORDER BY ts" % other),
                    [["0", "<module>", "__main__"], ["1", "f", "__main__"]])
                self.assertEqual(
                    sorted(query(trace, "SELECT name FROM functions "
                                        "WHERE module != '%s'" % other)),
                    [["<module>"], ["f"]])
                self.assertEqual(query(trace, "SELECT count(*) FROM calls "
                                              "WHERE module != '%s'" % other),
                                 [["2"]])
                self.assertEqual(query(trace, "SELECT count(*) FROM marks"),
                                 [["0"]])
                self.assertEqual(query(trace, "SELECT count(*) FROM threads"),
                                 [["1"]])

    def test_signal_handler_and_atexit_of_the_tool_not_traced(self):
        script = self.write("term.py", r'''
import os, signal
def f(): pass
f()
os.kill(os.getpid(), signal.SIGTERM)
''')
        trace = self.path("t.trace")
        r = record(["-q", "-o", trace], [script])
        self.assertEqual(r.returncode, -signal.SIGTERM, r.stderr)
        # What the program imports itself (signal, enum, ...) is its own;
        # nothing of the recorder (its signal handler, its atexit closer).
        package = os.path.dirname(os.path.abspath(tracestore.__file__))
        for module, name, path in query(
                trace, "SELECT module, name, file FROM functions"):
            self.assertFalse(module.startswith(("tracestore", "etwtrace",
                                                "sitecustomize")), module)
            self.assertFalse(path.startswith(package), (name, path))
        self.assertEqual(query(trace, "SELECT name FROM calls WHERE depth = 0"),
                         [["<module>"]])


class LargeSettingsTest(TempDirTest):

    def test_5000_prefixes_in_main_and_children(self):
        child = self.write("child.py", "def g():\n    pass\ng()\n")
        script = self.write("big.py", r'''
import multiprocessing, subprocess, sys
def f(): pass
def h(): pass
if __name__ == "__main__":
    f()
    subprocess.run([sys.executable, sys.argv[1]], check=True)
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=h); p.start(); p.join()
    sys.exit(p.exitcode)
''')
        args = ["-q", "--follow-children", "-o", self.path("big.trace"),
                "-i", "__main__", "-i", "__mp_main__"]
        for i in range(5000):
            args += ["-i", "some.package%d.module" % i]
        r = record(args, [script, child])
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        trace = self.path("big.trace")
        # The root process's own calls (the trace reads the whole tree).
        self.assertEqual(query(trace, "SELECT name FROM calls WHERE depth = 1 "
                                      "AND pid = (SELECT pid FROM processes "
                                      "WHERE depth = 0)"),
                         [["f"]])
        children = sorted(c for c in os.listdir(trace)
                          if c.startswith("child-"))
        # subprocess's, multiprocessing's (and its resource tracker's)
        self.assertGreaterEqual(len(children), 2, os.listdir(trace))
        names = set()
        for c in children:
            names |= {row[0] for row in query(os.path.join(trace, c),
                                              "SELECT name FROM calls")}
        self.assertTrue({"g", "h"} <= names, names)
        # Nothing left beside the trace.
        self.assertEqual(sorted(os.listdir(self.tmp)),
                         ["big.py", "big.trace", "child.py"])


if __name__ == "__main__":
    unittest.main()
