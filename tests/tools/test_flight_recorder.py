"""Flight-recorder mode (issue 17), with the real recorder, CLI and sqlite
shell: `record --max-size` keeps the newest events of every thread within
the budget for as long as the program runs.

- A long call-heavy recording (FLIGHT_SECONDS, 60 in ctest) with
  --max-size 256M: the event files' disk usage (du) sampled every second
  never exceeds 256 MiB; meanwhile `verify` (kinds, function ids, time
  order: what a torn record would break), SQL queries and `top --once` on
  the live, wrapping trace never fail; afterwards verify passes, info
  reports the window and the program's own count of its last calls equals
  what the trace holds.
- 20 SIGKILLs at random moments while the ring wraps: each trace verifies
  and answers queries.
- A snapshot of a live ring trace (writer stopped with SIGSTOP so that
  "the moment" is well defined) verifies, is a normal trace, and its calls
  equal the source window's; tracestore.snapshot() and
  --snapshot-signal USR2 from inside the program.
- Bad input: clear errors, exit status 2, nothing recorded lost.

Run by ctest with TRACESTORE_CLI, TRACED_PYTHON and PYTHONPATH set.
"""

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

CLI = os.environ["TRACESTORE_CLI"]
PYTHON = os.environ.get("TRACED_PYTHON") or ""
SECONDS = float(os.environ.get("FLIGHT_SECONDS", "60"))
HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "flight_workload.py")
MiB = 1 << 20


def run(args, timeout=120):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout)


def query(trace, sql):
    r = run([CLI, "query", trace, "--csv", sql])
    if r.returncode != 0:
        raise AssertionError("query failed (%d): %s\n%s" % (
            r.returncode, sql, r.stderr))
    return [line.split(",") for line in r.stdout.splitlines()[1:]]


def event_disk_bytes(trace):
    total = 0
    for name in os.listdir(trace):
        if name.startswith("events."):
            try:
                total += os.stat(os.path.join(trace, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def overwritten(trace):
    r = run([CLI, "info", trace])
    m = re.search(r"(\d+) older events overwritten", r.stdout)
    return int(m.group(1)) if m else 0


def record(trace, args, workload_args, **kw):
    return subprocess.Popen(
        [PYTHON, "-m", "tracestore", "record", "-q", "-o", trace] + args +
        ["--", WORKLOAD] + workload_args,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        universal_newlines=True, start_new_session=True, **kw)


def wait_until(predicate, timeout, what):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


@unittest.skipUnless(PYTHON, "no interpreter with the recorder was built")
class FlightRecorderTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="flight-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def test_long_recording_stays_within_budget(self):
        trace, count = self.path("long.trace"), self.path("count")
        budget = 256 * MiB
        p = record(trace, ["--max-size", "256M"], [str(SECONDS), count])
        samples = []  # du of the event files, every second, by a thread
        stop = threading.Event()

        def sample():
            while not stop.wait(1.0):
                if os.path.isdir(trace):
                    samples.append(event_disk_bytes(trace))

        sampler = threading.Thread(target=sample)
        sampler.start()
        queries = tops = verifies = 0
        try:
            while p.poll() is None:
                time.sleep(0.2)
                if not os.path.isdir(trace):
                    continue
                # The live trace, wrapping: every reader answers, whole.
                v = run([CLI, "verify", trace])
                self.assertEqual(v.returncode, 0, v.stderr)
                verifies += 1
                rows = query(trace, "SELECT count(*), min(ts), "
                             "sum(dur IS NULL) FROM calls")
                self.assertEqual(len(rows), 1)
                queries += 1
                t = run([CLI, "top", trace, "--once", "-n", "5"])
                self.assertEqual(t.returncode, 0, t.stderr)
                self.assertIn("fib", t.stdout)
                tops += 1
        finally:
            stop.set()
            sampler.join()
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
        peak = max(samples) if samples else 0
        self.assertLessEqual(peak, budget)
        self.assertEqual(p.returncode, 0, err)
        self.assertGreater(len(samples), SECONDS / 2)
        self.assertGreater(verifies, 1)
        self.assertLessEqual(event_disk_bytes(trace), budget)
        v = run([CLI, "verify", trace])
        self.assertEqual(v.returncode, 0, v.stderr)
        info = run([CLI, "info", trace]).stdout
        self.assertIn("max size     268435456 bytes", info)
        self.assertRegex(info, r"window +from [0-9.]+ s")
        self.assertGreater(overwritten(trace), 0, info)
        with open(count) as f:
            made = int(f.read())
        rows = query(trace, "SELECT count(*), min(ts) FROM calls "
                     "WHERE name = 'final_call'")
        self.assertEqual(int(rows[0][0]), made)
        # ... and they are the newest calls: nothing of the program's
        # after them but its exit.
        later = query(trace, "SELECT count(*) FROM calls WHERE name = 'fib' "
                      "AND ts > %s" % rows[0][1])
        self.assertEqual(int(later[0][0]), 0)
        print("\nlong recording: %d s, %d du samples (peak %.1f MiB of 256), "
              "%d live verifies, %d queries, %d top --once; %d events "
              "overwritten" % (SECONDS, len(samples), peak / MiB, verifies,
                               queries, tops, overwritten(trace)),
              file=sys.stderr)

    def test_sigkill_while_wrapping(self):
        rng = random.Random(17)
        for round in range(20):
            trace = self.path("kill%d.trace" % round)
            count = self.path("count%d" % round)
            p = record(trace, ["--max-size", "8M"], ["600", count])
            try:
                wait_until(lambda: os.path.isdir(trace) and
                           overwritten(trace) > 0, 60, "the ring to wrap")
                time.sleep(rng.uniform(0, 0.5))
            finally:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
            self.assertEqual(p.returncode, -signal.SIGKILL)
            v = run([CLI, "verify", trace])
            self.assertEqual(v.returncode, 0, "round %d: %s%s" % (
                round, v.stdout, v.stderr))
            self.assertIn("not closed cleanly", v.stderr)
            rows = query(trace, "SELECT count(*), sum(starts_before_window) "
                         "FROM calls WHERE name = 'fib'")
            self.assertGreater(int(rows[0][0]), 0)
            self.assertLessEqual(event_disk_bytes(trace), 8 * MiB)
            shutil.rmtree(trace)

    def test_snapshot_of_a_live_ring(self):
        trace, count = self.path("live.trace"), self.path("count")
        snap = self.path("snap.trace")
        p = record(trace, ["--max-size", "16M"], ["600", count])
        calls = ("SELECT thread_id, depth, function_id, ts, dur, self_dur, "
                 "starts_before_window FROM calls ORDER BY thread_id, ts, "
                 "depth")
        try:
            wait_until(lambda: os.path.isdir(trace) and
                       overwritten(trace) > 0, 60, "the ring to wrap")
            # "At that moment": the writer stopped while both are read.
            os.killpg(p.pid, signal.SIGSTOP)
            try:
                s = run([CLI, "snapshot", trace, snap])
                self.assertEqual(s.returncode, 0, s.stderr)
                source = query(trace, calls)
                copy = query(snap, calls)
                threads = query(trace, "SELECT events_first FROM threads")
            finally:
                os.killpg(p.pid, signal.SIGCONT)
            open(count + ".stop", "w").close()
            p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
        v = run([CLI, "verify", snap])
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertNotIn("flight recorder", v.stderr)
        info = run([CLI, "info", snap]).stdout
        self.assertIn("state        closed", info)
        self.assertNotIn("max size", info)
        self.assertGreater(int(threads[0][0]), 0)
        self.assertGreater(len(source), 1000)
        self.assertEqual(copy, source)
        self.assertTrue(any(row[6] == "1" for row in source))
        # Exports flag those calls too.
        out = self.path("snap.json")
        e = run([CLI, "export", snap, "--format", "chrome", "-o", out,
                 "--no-progress"])
        self.assertEqual(e.returncode, 0, e.stderr)
        with open(out) as f:
            self.assertIn('"starts_before_window":true', f.read())

    def test_snapshot_from_inside_and_on_signal(self):
        trace, count = self.path("in.trace"), self.path("count")
        inside = self.path("inside.trace")
        p = record(trace, ["--max-size", "16M", "--snapshot-signal", "USR2"],
                   ["600", count, "10000", "--snapshot", inside])
        try:
            rounds = count + ".rounds"
            wait_until(lambda: os.path.exists(rounds), 60, "the program")
            wait_until(lambda: overwritten(trace) > 0, 60, "the ring to wrap")
            os.kill(p.pid, signal.SIGUSR2)
            on_signal = trace + "-snapshot-1"
            wait_until(lambda: os.path.exists(os.path.join(
                on_signal, "trace.header")) and
                run([CLI, "verify", on_signal]).returncode == 0, 60,
                "the snapshot on SIGUSR2")
            open(count + ".stop", "w").close()
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.communicate()
        self.assertTrue(query(on_signal, "SELECT count(*) FROM calls"
                              " WHERE name = 'fib'")[0][0] != "0")
        # tracestore.snapshot() from the program: the final calls made
        # before it, and none after.
        v = run([CLI, "verify", inside])
        self.assertEqual(v.returncode, 0, v.stderr)
        with open(count + ".before") as f:
            before = int(f.read())
        rows = query(inside, "SELECT count(*) FROM calls"
                     " WHERE name = 'final_call'")
        self.assertEqual(int(rows[0][0]), before)
        rows = query(trace, "SELECT count(*) FROM calls"
                     " WHERE name = 'final_call'")
        self.assertEqual(int(rows[0][0]), 10000)

    def test_bad_input(self):
        trace = self.path("bad.trace")
        for args, message in (
                (["--max-size", "lots"], "bad size"),
                (["--max-size", "1M"], "below the smallest budget"),
                (["--max-size", "-5G"], "--max-size"),
                (["--snapshot-signal", "USR2"], "needs --max-size"),
                (["--max-size", "16M", "--snapshot-signal", "KILL"],
                 "cannot be caught"),
                (["--max-size", "16M", "--snapshot-signal", "NOPE"],
                 "unknown signal")):
            r = run([PYTHON, "-m", "tracestore", "record", "-o", trace] +
                    args + ["--", WORKLOAD, "0", self.path("c")])
            self.assertEqual(r.returncode, 2, (args, r.stderr))
            self.assertIn(message, r.stderr)
            self.assertFalse(os.path.exists(trace))
        # A snapshot onto something that exists: refused, source untouched.
        good = self.path("good.trace")
        r = run([PYTHON, "-m", "tracestore", "record", "-q", "-o", good,
                 "--max-size", "8M", "--", WORKLOAD, "0.5", self.path("c")])
        self.assertEqual(r.returncode, 0, r.stderr)
        before = query(good, "SELECT count(*) FROM calls")
        os.mkdir(self.path("taken"))
        open(os.path.join(self.path("taken"), "x"), "w").close()
        s = run([CLI, "snapshot", good, self.path("taken")])
        self.assertEqual(s.returncode, 2)
        self.assertIn("tracestore snapshot", s.stderr)
        s = run([CLI, "snapshot", self.path("nothing"), self.path("o")])
        self.assertEqual(s.returncode, 2)
        self.assertEqual(query(good, "SELECT count(*) FROM calls"), before)
        self.assertEqual(run([CLI, "verify", good]).returncode, 0)
        # The Python API: the same checks.
        code = ("import tracestore\n"
                "for bad in ('x', 100, True, '1e9'):\n"
                "    try:\n"
                "        tracestore.enable(%r, max_size=bad)\n"
                "    except ValueError as e:\n"
                "        print('refused', bad)\n"
                "try:\n"
                "    tracestore.snapshot()\n"
                "except RuntimeError as e:\n"
                "    print('no session')\n" % self.path("api.trace"))
        r = run([PYTHON, "-c", code])
        self.assertEqual(r.stdout.count("refused"), 4, r.stdout + r.stderr)
        self.assertIn("no session", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
