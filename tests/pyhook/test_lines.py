"""Per-line times (tracestore_lines, `tracestore lines`) on a workload of
known cost (line_cost_workload.py), with every backend this interpreter
offers:

- hits equal a sys.settrace line counter's, run on the same workload
  untraced, and the known counts (the hot loop's body runs LOOPS times);
- the sleeping line's time lies between the sleep the program measured
  inside the line and the time it measured around it, give or take the
  clocks' resolution and the calibration (derived from the trace's rate);
- the line calling a known function has that call's duration (the calls
  table's dur) as its time_in_calls, and so does the line that calls a
  function that raises;
- every row equals an independent computation from the raw events (the
  definition in line_times.h, re-implemented here over _tracestore.load);
- function_id = is pushed down (the plan says so) and gives the same rows;
- `tracestore lines` prints the kernprof-style view with the source text,
  and says so when the source file is gone; bad input fails clearly.
"""

import json
import os
import re
import shutil
import sys
import time
import unittest

from support import PY, TempDirTest, hooks, load, record, run

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "line_cost_workload.py")
CLI = os.environ.get("TRACESTORE_CLI")
LOOPS = 300

COUNTER = r"""
import collections, json, runpy, sys
path = sys.argv[1]
hits = collections.Counter()
def local(frame, event, arg):
    if event == "line":
        hits[(frame.f_code.co_name, frame.f_lineno)] += 1
    return local
def tracer(frame, event, arg):
    if frame.f_code.co_filename != path:
        return None
    return local(frame, event, arg)
sys.argv = sys.argv[1:]
sys.settrace(tracer)
try:
    runpy.run_path(path, run_name="__main__")
finally:
    sys.settrace(None)
sys.stderr.write("HITS " + json.dumps([[k[0], k[1], v] for k, v in hits.items()]) + "\n")
"""


def marker_lines():
    """{"LINE_SLEEP": 29, ...} from the workload's comments."""
    out = {}
    with open(WORKLOAD) as f:
        for n, text in enumerate(f, 1):
            for m in re.finditer(r"# (LINE_[A-Z_]+)", text):
                out[m.group(1)] = n
    return out


def oracle(data):
    """{(function_id, line): [hits, self_ns, in_calls_ns, intervals]} from
    the raw events, following line_times.h; intervals counts the ns
    differences summed (each may round by 1 ns against the table, which
    converts summed ticks)."""
    stats = {}

    def stat(key):
        return stats.setdefault(key, [0, 0, 0, 0])

    def end_line(fr, ns):
        if fr["line"]:
            s = stat((fr["fn"], fr["line"]))
            span = max(ns - fr["since"], 0)
            calls = min(fr["in_calls"], span)
            s[1] += span - calls
            s[2] += calls
            s[3] += 2 + fr["children"]
            fr["line"] = 0

    for t, events in enumerate(data["events"]):
        stack, yields = [], {}

        def pop_to(keep, ns):
            while len(stack) > keep:
                fr = stack.pop()
                end_line(fr, ns)
                if stack:
                    stack[-1]["in_calls"] += max(ns - fr["start"], 0)
                    stack[-1]["children"] += 1

        def frame(fn, line, ns):
            return {"fn": fn, "line": line, "start": ns, "since": ns,
                    "in_calls": 0, "children": 0}

        for ns, kind, fn, value in events:
            if kind in ("call", "c_call"):
                stack.append(frame(fn, 0, ns))
            elif kind == "resume":
                stack.append(frame(fn, yields.get(fn, 0), ns))
            elif kind in ("return", "unwind", "yield", "c_return"):
                if kind == "yield" and value:
                    yields[fn] = value
                pos = [i for i, fr in enumerate(stack) if fr["fn"] == fn]
                if pos:
                    pop_to(pos[-1], ns)
            elif kind == "line":
                pos = [i for i, fr in enumerate(stack) if fr["fn"] == fn]
                if pos:
                    pop_to(pos[-1] + 1, ns)
                else:
                    stack.append(frame(fn, 0, ns))
                fr = stack[-1]
                end_line(fr, ns)
                fr.update(line=value, since=ns, in_calls=0, children=0)
                stat((fn, value))[0] += 1
        end = data["threads"][t]["end_ns"]
        if end is not None:
            pop_to(0, end)
    return stats


@unittest.skipUnless(CLI, "needs TRACESTORE_CLI (ctest sets it)")
class LineTimes(TempDirTest):
    @classmethod
    def setUpClass(cls):
        cls.marks = marker_lines()
        r = run([PY, "-c", COUNTER, WORKLOAD, str(LOOPS)])
        assert r.returncode == 0, r.stderr
        hits = json.loads(r.stderr.split("HITS ", 1)[1])
        cls.settrace_hits = {(name, line): n for name, line, n in hits}

    def query(self, trace, sql):
        r = run([CLI, "query", trace, "--json", sql])
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout) if r.stdout.strip() else []

    def record(self, hook, extra=()):
        out = self.path("lines-%s.trace" % (hook or "default"))
        args = ["--lines", "-o", out] + (["--hook", hook] if hook else [])
        r = record(args + list(extra), [WORKLOAD, str(LOOPS)])
        self.assertEqual(r.returncode, 0, r.stderr)
        return out, json.loads(r.stdout)

    def tick_ns(self, trace):
        """One tick of the trace's clock in ns, from `tracestore info`
        ("clock  tsc, 2.599998 GHz" or a CLOCK_MONOTONIC rate)."""
        r = run([CLI, "info", trace])
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"^clock\s+.*?([\d.]+) (GHz|MHz|kHz|Hz)\s*$", r.stdout,
                      re.M)
        if not m:
            return 1.0  # ns ticks
        hz = float(m.group(1)) * {"GHz": 1e9, "MHz": 1e6, "kHz": 1e3,
                                  "Hz": 1.0}[m.group(2)]
        return 1e9 / hz

    def rows(self, trace):
        rows = self.query(trace, "SELECT * FROM lines WHERE file = '%s'"
                          % WORKLOAD.replace("'", "''"))
        return {(r["name"], r["line"]): r for r in rows}

    def test_every_backend(self):
        for hook in [None] + hooks():
            with self.subTest(hook=hook or "default"):
                trace, measured = self.record(hook)
                self.check(trace, measured)

    def check(self, trace, measured):
        m = self.marks
        rows = self.rows(trace)
        # Hits: the settrace counter's, line for line, in the functions
        # that are called (the module body runs once either way, but
        # runpy's and ours differ in what precedes it).
        ours = {k: r["hits"] for k, r in rows.items() if k[0] != "<module>"}
        theirs = {k: n for k, n in self.settrace_hits.items()
                  if k[0] != "<module>"}
        self.assertEqual(ours, theirs)
        self.assertEqual(rows[("work", m["LINE_LOOP_BODY"])]["hits"], LOOPS)
        self.assertEqual(rows[("work", m["LINE_SLEEP"])]["hits"], 1)
        self.assertEqual(rows[("rec", m["LINE_REC"])]["hits"], 5)

        # The sleeping line: no less than the sleep measured inside it, no
        # more than the time measured around it, within the clocks'
        # resolution and the rate's calibration.
        data = load(trace)
        res = 2 * (self.tick_ns(trace) + 1) + 2 * time.get_clock_info(
            "perf_counter").resolution * 1e9
        slept, around = measured["slept_ns"], measured["around_ns"]
        sleep_row = rows[("work", m["LINE_SLEEP"])]
        # The trace's rate is measured against CLOCK_MONOTONIC (which
        # perf_counter reads) between two anchors: allow it 1 % off.
        tol = res + 0.01 * around
        self.assertGreaterEqual(sleep_row["time"], slept - tol, sleep_row)
        self.assertLessEqual(sleep_row["time"], around + tol, sleep_row)
        self.assertEqual(sleep_row["time_in_calls"], 0)

        # Callee time goes to the calling line: exactly the call's duration.
        for callee, mark in (("callee", "LINE_CALL"), ("fails", "LINE_FAILS")):
            dur = self.query(trace, "SELECT dur FROM calls WHERE name = '%s'"
                             % callee)
            self.assertEqual(len(dur), 1, dur)
            row = rows[("work", m[mark])]
            self.assertLessEqual(abs(row["time_in_calls"] - dur[0]["dur"]), 1,
                                 (row, dur))
            self.assertEqual(row["time"],
                             row["self_time"] + row["time_in_calls"])

        # Every row, every function (the runtime's own included): the
        # independent computation from the raw events.
        want = oracle(data)
        got = self.query(trace, "SELECT function_id, line, hits, self_time,"
                         " time_in_calls FROM lines")
        self.assertEqual(len(got), len(want))
        for r in got:
            hits, self_ns, calls_ns, n = want[(r["function_id"], r["line"])]
            self.assertEqual(r["hits"], hits, r)
            self.assertLessEqual(abs(r["self_time"] - self_ns), n, r)
            self.assertLessEqual(abs(r["time_in_calls"] - calls_ns), n, r)

        # function_id = is pushed down and gives the same rows.
        fid = rows[("work", m["LINE_CALL"])]["function_id"]
        plan = run([CLI, "query", trace, "EXPLAIN QUERY PLAN SELECT * FROM "
                    "lines WHERE function_id = %d" % fid])
        self.assertIn("function_id=", plan.stdout)
        one = self.query(trace, "SELECT line, hits FROM lines WHERE "
                         "function_id = %d ORDER BY line" % fid)
        self.assertEqual([(r["line"], r["hits"]) for r in one],
                         sorted((k[1], r["hits"]) for k, r in rows.items()
                                if k[0] == "work"))

    def test_lines_view(self):
        trace, _ = self.record(None)
        m = self.marks
        rows = self.rows(trace)
        r = run([CLI, "lines", trace, "--function", "work"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.splitlines()
        self.assertEqual(out[0], "Timer unit: 1e-06 s (times in microseconds)")
        self.assertIn("File: %s" % WORKLOAD, out)
        self.assertTrue(any(l.startswith("Function: __main__.work at line 27")
                            for l in out), out[:6])
        header = [l for l in out if l.startswith("Line #")]
        self.assertEqual(header[0].split(), ["Line", "#", "Hits", "Time", "(us)",
                                             "Per", "Hit", "%", "Time", "In",
                                             "calls", "Line", "Contents"])
        total = sum(v["time"] for k, v in rows.items() if k[0] == "work")
        by_line = {}
        for l in out:
            f = l.split(None, 6)
            if f and f[0].isdigit():
                by_line[int(f[0])] = l
        # The def line is shown with its text and no numbers.
        self.assertEqual(by_line[27].split(), ["27", "def", "work(loops):"])
        for key, row in rows.items():
            if key[0] != "work":
                continue
            f = by_line[key[1]].split(None, 6)
            self.assertEqual(int(f[1]), row["hits"])
            self.assertAlmostEqual(float(f[2]), row["time"] / 1000, delta=0.06)
            self.assertAlmostEqual(float(f[3]), row["time"] // row["hits"] / 1000,
                                   delta=0.06)
            self.assertAlmostEqual(float(f[4]), 100.0 * row["time"] / total,
                                   delta=0.06)
            self.assertAlmostEqual(float(f[5]), row["time_in_calls"] / 1000,
                                   delta=0.06)
        with open(WORKLOAD) as f:
            src = f.read().splitlines()
        self.assertTrue(by_line[m["LINE_LOOP_BODY"]].endswith(
            src[m["LINE_LOOP_BODY"] - 1]))
        # The sleeping line is the hottest: the largest % Time.
        pcts = {n: float(l.split(None, 6)[4]) for n, l in by_line.items()
                if len(l.split(None, 6)) > 5 and n in dict(
                    (k[1], 0) for k in rows if k[0] == "work")}
        self.assertEqual(max(pcts, key=pcts.get), m["LINE_SLEEP"])

        # By id, the same; the default view includes work too.
        fid = rows[("work", m["LINE_SLEEP"])]["function_id"]
        by_id = run([CLI, "lines", trace, "--function", str(fid)])
        self.assertEqual(by_id.stdout, r.stdout)
        top = run([CLI, "lines", trace, "-n", "2"])
        self.assertEqual(top.returncode, 0, top.stderr)
        self.assertEqual(top.stdout.count("Total time:"), 2)
        self.assertIn("Function: __main__.work at line", top.stdout)
        # The Python command forwards it.
        py = run([PY, "-m", "tracestore", "lines", trace, "--function", "work"])
        self.assertEqual(py.stdout, r.stdout)

    def test_source_missing(self):
        script = self.path("gone.py")
        shutil.copy(WORKLOAD, script)
        out = self.path("gone.trace")
        r = record(["--lines", "-o", out], [script, "5"])
        self.assertEqual(r.returncode, 0, r.stderr)
        os.unlink(script)
        r = run([CLI, "lines", out, "--function", "callee"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("(source file not found: %s; lines shown without text)"
                      % script, r.stdout)
        numbered = [l.split() for l in r.stdout.splitlines()
                    if l.split() and l.split()[0].isdigit()]
        # Only the lines that ran, with numbers.
        with open(WORKLOAD) as f:
            first = f.read().splitlines().index("def callee(n):") + 1
        self.assertEqual([int(f[0]) for f in numbered],
                         [first + 1, first + 2, first + 3, first + 4])
        self.assertEqual(int(numbered[2][1]), 200)  # callee(200)'s loop body

    def test_bad_input(self):
        out = self.path("nolines.trace")
        r = record(["-o", out], [WORKLOAD, "5"])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run([CLI, "lines", out])
        self.assertEqual(r.returncode, 2)
        self.assertIn("has no line events (record with --lines", r.stderr)
        self.assertEqual(self.query(out, "SELECT * FROM lines"), [])
        trace, _ = self.record(None)
        for args, message in (
                (["--function", "nosuch"], "no function nosuch in this trace"),
                (["-n", "0"], "-n needs a positive number"),
                (["--bogus"], "unknown option '--bogus'"),
                (["--function"], "--function needs a NAME or ID")):
            with self.subTest(args=args):
                r = run([CLI, "lines", trace] + args)
                self.assertEqual(r.returncode, 2, r.stdout)
                self.assertIn(message, r.stderr)
        # A damaged trace: what could be read, the problem, exit 3.
        events = os.path.join(trace, "events.0.store")
        header = 64 * 1024  # kStoreHeaderBytes
        os.truncate(events, header + (os.path.getsize(events) - header) // 2)
        r = run([CLI, "lines", trace, "-n", "1"])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("Total time:", r.stdout)
        self.assertIn(events + ": truncated", r.stderr)
        self.assertIn("the answer is partial", r.stderr)
        r = run([CLI, "lines", self.path("missing.trace")])
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.trace", r.stderr)


if __name__ == "__main__":
    unittest.main()
