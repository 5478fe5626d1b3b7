"""`tracestore top` in a real terminal: tmux runs it (new-session,
send-keys, capture-pane) beside a program that is writing the trace.

- A Python program traced by `python -m tracestore record`: its hottest
  function shows first, the counts grow between two screens, the sort and
  thread keys change the view, `q` exits.
- A C++ writer (tests/tools/known_trace --live) that closes its trace
  while top watches: top says the writer closed it; Ctrl-C exits with 0.
- top never writes to the trace; `--once` prints a snapshot without a
  terminal, and without --once top refuses to run without one.

Run by ctest with TRACESTORE_CLI and KNOWN_TRACE set, and TRACED_PYTHON
(an interpreter with PYTHONPATH reaching the recorder) when one was built.
"""

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

CLI = os.environ["TRACESTORE_CLI"]
KNOWN_TRACE = os.environ["KNOWN_TRACE"]
TRACED_PYTHON = os.environ.get("TRACED_PYTHON", "")
TMUX = shutil.which("tmux")


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=kw.pop("timeout", 60),
                          **kw)


def wait_until(predicate, timeout, what):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)


def trace_files(trace):
    """Name -> (sha256, mtime) of every file in a trace directory."""
    out = {}
    for name in sorted(os.listdir(trace)):
        path = os.path.join(trace, name)
        with open(path, "rb") as f:
            out[name] = (hashlib.sha256(f.read()).hexdigest(),
                         os.stat(path).st_mtime_ns)
    return out


class Tmux:
    """One private tmux server (its own socket), one session running a
    command in a 160x40 terminal."""

    def __init__(self, tmp):
        self.socket = "tstest-%d" % os.getpid()
        self.rc_file = os.path.join(tmp, "top.rc")

    def tmux(self, *args):
        return run([TMUX, "-L", self.socket] + list(args))

    def start(self, args):
        # The shell ignores SIGINT so that it outlives a Ctrl-C to top (which
        # installs its own handler) and records top's exit status.
        command = "trap '' INT; %s; echo $? > %s" % (
            " ".join(shlex.quote(a) for a in args), shlex.quote(self.rc_file))
        r = self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "top",
                      "-x", "160", "-y", "40", "env TERM=screen sh -c %s"
                      % shlex.quote(command))
        assert r.returncode == 0, r.stderr

    def screen(self):
        r = self.tmux("capture-pane", "-p", "-t", "top")
        return r.stdout if r.returncode == 0 else ""

    def keys(self, *keys):
        r = self.tmux("send-keys", "-t", "top", *keys)
        assert r.returncode == 0, r.stderr

    def alive(self):
        return self.tmux("has-session", "-t", "top").returncode == 0

    def exit_code(self):
        with open(self.rc_file) as f:
            return int(f.read())

    def close(self):
        self.tmux("kill-server")


def calls_count(screen):
    m = re.search(r"calls ([\d,]+) \(", screen)
    return int(m.group(1).replace(",", "")) if m else -1


def first_row(screen):
    """The function of the first table row."""
    lines = screen.splitlines()
    for i, line in enumerate(lines):
        if "SELF" in line and "FUNCTION" in line:
            row = lines[i + 1] if i + 1 < len(lines) else ""
            return row.split()[-1].lstrip("*") if row.split() else ""
    return ""


PROGRAM = textwrap.dedent("""
    import os, sys

    def hot_spin(n):
        s = 0
        for i in range(n):
            s += i * i
        return s

    def cool(n):
        return len(str(n))

    def main(stop):
        while not os.path.exists(stop):
            hot_spin(20000)
            for k in range(20):
                cool(k)

    main(sys.argv[1])
""")


@unittest.skipIf(TMUX is None, "tmux is not installed (tools/lib/setup.sh lists it)")
class TopUnderTmux(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tstop-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.term = Tmux(self.tmp)
        self.addCleanup(self.term.close)

    def test_traced_python_program(self):
        if not TRACED_PYTHON:
            self.skipTest("no CPython with the recorder was built")
        script = os.path.join(self.tmp, "spin.py")
        with open(script, "w") as f:
            f.write(PROGRAM)
        stop = os.path.join(self.tmp, "stop")
        trace = os.path.join(self.tmp, "spin.trace")
        log = os.path.join(self.tmp, "program.log")
        with open(log, "w") as out:
            program = subprocess.Popen(
                [TRACED_PYTHON, "-m", "tracestore", "record", "-o", trace, "--",
                 script, stop], stdout=out, stderr=subprocess.STDOUT)

        def finish():
            open(stop, "w").close()
            try:
                program.wait(timeout=30)
            except subprocess.TimeoutExpired:
                program.kill()
                program.wait()
        self.addCleanup(finish)

        def started():
            if program.poll() is not None:
                with open(log) as f:
                    self.fail("the traced program exited: " + f.read()[-2000:])
            return os.path.exists(os.path.join(trace, "threads.store"))
        wait_until(started, 30, "the trace to appear")

        self.term.start([CLI, "top", trace, "--interval", "0.5"])
        screen = wait_until(lambda: (lambda s: s if "hot_spin" in s else "")(
            self.term.screen()), 15, "hot_spin on the screen")
        self.assertIn("recording (pid", screen)
        wait_until(lambda: first_row(self.term.screen()) == "__main__.hot_spin",
                   10, "hot_spin to be the hottest function")
        first = calls_count(self.term.screen())
        self.assertGreater(first, 0)
        wait_until(lambda: calls_count(self.term.screen()) > first, 10,
                   "the call count to grow")

        self.term.keys("t")
        screen = wait_until(lambda: (lambda s: s if "sort: total" in s else "")(
            self.term.screen()), 5, "sort by total")
        self.assertIn("TOTAL*", screen)
        self.term.keys("c")
        screen = wait_until(lambda: (lambda s: s if "sort: calls" in s else "")(
            self.term.screen()), 5, "sort by calls")
        self.assertEqual(first_row(screen), "__main__.cool")  # 20 per hot_spin
        self.term.keys("]")
        wait_until(lambda: "thread 1/1: MainThread" in self.term.screen(), 5,
                   "the thread view")
        self.term.keys("a")
        wait_until(lambda: "thread: all" in self.term.screen(), 5, "all threads")
        self.term.keys("q")
        wait_until(lambda: not self.term.alive(), 5, "top to exit on q")
        self.assertEqual(self.term.exit_code(), 0)

        finish()
        with open(log) as f:
            self.assertEqual(program.returncode, 0, f.read())
        r = run([CLI, "verify", trace])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_writer_closes_the_trace(self):
        trace = os.path.join(self.tmp, "live.trace")
        writer = subprocess.Popen([KNOWN_TRACE, trace, "--live", "4"])
        self.addCleanup(writer.wait)
        wait_until(lambda: os.path.exists(os.path.join(trace, "threads.store")),
                   30, "the trace to appear")
        self.term.start([CLI, "top", trace, "--interval", "0.3"])
        wait_until(lambda: first_row(self.term.screen()) ==
                   "app.compute.Matrix.multiply", 10, "multiply first")
        self.assertNotIn("closed", self.term.screen())
        screen = wait_until(
            lambda: (lambda s: s if "The writer closed the trace" in s else "")(
                self.term.screen()), 20, "the closed message")
        self.assertIn(" - closed - ", screen)
        self.assertEqual(writer.wait(timeout=10), 0)
        self.term.keys("C-c")
        wait_until(lambda: not self.term.alive(), 5, "top to exit on Ctrl-C")
        self.assertEqual(self.term.exit_code(), 0)

    def test_top_never_writes(self):
        trace = os.path.join(self.tmp, "known.trace")
        self.assertEqual(run([KNOWN_TRACE, trace]).returncode, 0)
        before = trace_files(trace)
        os.chmod(trace, 0o555)  # and it needs no write permission
        self.addCleanup(os.chmod, trace, 0o755)
        self.term.start([CLI, "top", trace, "--interval", "0.2"])
        wait_until(lambda: first_row(self.term.screen()) ==
                   "app.compute.Matrix.multiply", 10, "multiply first")
        for key in ("t", "]", "]", "n", "p", "q"):
            self.term.keys(key)
            time.sleep(0.3)
        wait_until(lambda: not self.term.alive(), 5, "top to exit")
        self.assertEqual(trace_files(trace), before)


class TopWithoutTerminal(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tstop-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.trace = os.path.join(self.tmp, "known.trace")
        self.assertEqual(run([KNOWN_TRACE, self.trace]).returncode, 0)

    def test_once(self):
        r = run([CLI, "top", self.trace, "--once", "-n", "3"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(first_row(r.stdout), "app.compute.Matrix.multiply")
        self.assertIn("calls 4,101", r.stdout)
        self.assertIn("The writer closed the trace", r.stdout)
        rows = r.stdout.split("FUNCTION\n", 1)[1].split("\n\n")[0].splitlines()
        self.assertEqual(len(rows), 3)
        r = run([CLI, "top", self.trace, "--once", "--sort", "calls",
                 "--thread", "2"])
        self.assertEqual(first_row(r.stdout), "app.compute.Matrix.multiply")
        self.assertIn("thread 2/2: worker-1", r.stdout)
        r = run([CLI, "top", self.trace, "--once", "--sort", "total"])
        self.assertEqual(first_row(r.stdout), "app.main")

    def test_needs_a_terminal(self):
        r = run([CLI, "top", self.trace], stdin=subprocess.DEVNULL)
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs a terminal", r.stderr)
        r = run([CLI, "top", self.tmp + "/nope", "--once"])
        self.assertEqual(r.returncode, 2)
        r = run([CLI, "top", self.trace, "--sort", "bogus", "--once"])
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
