"""--etw: the same recorder feeds python-etwtrace's events. Through the
in-memory capture sink (Linux has no ETW, and these kernels no user_events):
PythonThread START first, a PythonFunction before each function's first
Push, balanced Push/Pop per thread matching the trace store's calls, marks
with their opcodes, PythonThread STOP last; and the etwtrace command line."""

import collections
import os
import threading
import unittest

import tracestore
from support import PY, TempDirTest, Trace, hooks, run
from tracestore import _tracestore


def leaf(i):
    return i + 1


def work(n):
    return sum(leaf(i) for i in range(n))


class Etw(TempDirTest):
    def record(self, hook):
        out = self.path("etw-%s.trace" % hook)
        with tracestore.tracing(out, hook=hook, etw="capture",
                                exclude=["threading", "support", "unittest"]):
            tracestore.mark("begin")
            with tracestore.mark_range("phase"):
                t = threading.Thread(target=work, args=(20,), name="w")
                t.start()
                t.join()
                work(10)
            tracestore.mark_stack("sample")
        return Trace(out), _tracestore._etw_events()

    def test_event_sequence_matches_the_trace(self):
        for hook in hooks():
            with self.subTest(hook=hook):
                trace, events = self.record(hook)
                self.check(trace, events)

    def check(self, trace, events):
        names = [e["name"] for e in events]
        self.assertEqual(names[0], "PythonThread")
        self.assertEqual(events[0]["opcode"], 1)
        # Every Push comes after its function's (and its caller's)
        # PythonFunction, in the order the events were written.
        described = set()
        pushes = collections.Counter()
        for e in events:
            f = e["fields"]
            if e["name"] == "PythonFunction":
                described.add(f["FunctionID"])
                self.assertEqual((e["keyword"], e["level"]), (0x400, 5))
                self.assertEqual((f["BeginAddress"], f["EndAddress"]), (0, 0))
            elif e["name"] == "PythonFunctionPush":
                self.assertIn(f["FunctionID"], described,
                              "Push before its PythonFunction")
                if f["Caller"]:
                    self.assertIn(f["Caller"], described)
                pushes[f["FunctionID"]] += 1
        # Push and Pop balance on every thread.
        by_thread = collections.defaultdict(list)
        for e in events:
            by_thread[e["thread_id"]].append(e)
        for tid, evs in by_thread.items():
            depth = 0
            for e in evs:
                if e["name"] == "PythonFunctionPush":
                    depth += 1
                elif e["name"] == "PythonFunctionPop":
                    depth -= 1
                    self.assertGreaterEqual(depth, 0)
            self.assertEqual(depth, 0, "unbalanced Push/Pop on %d" % tid)
        # The trace store's calls, function by function.
        calls = collections.Counter()
        for evs in trace.events:
            for _, kind, fid, _ in evs:
                if kind in ("call", "resume"):
                    calls[fid] += 1
        self.assertEqual(pushes, calls)
        for fid in calls:
            f = [e["fields"] for e in events if e["name"] == "PythonFunction"
                 and e["fields"]["FunctionID"] == fid][0]
            self.assertEqual(f["Name"], trace.functions[fid]["name"])
            self.assertEqual(f["SourceFile"], trace.functions[fid]["file"])
            self.assertEqual(f["LineNumber"], trace.functions[fid]["line"])
        marks = [(e["fields"]["Mark"], e["opcode"]) for e in events
                 if e["name"] == "PythonMark"]
        self.assertEqual(marks, [("begin", 0), ("phase", 1), ("phase", 2)])
        self.assertEqual([e["fields"]["Mark"] for e in events
                          if e["name"] == "PythonStackSample"], ["sample"])
        starts = [e["fields"]["ThreadID"] for e in events
                  if e["name"] == "PythonThread" and e["opcode"] == 1]
        stops = [e["fields"]["ThreadID"] for e in events
                 if e["name"] == "PythonThread" and e["opcode"] == 2]
        self.assertEqual(sorted(starts), sorted(stops))
        self.assertEqual(len(starts), 2)
        self.assertEqual(sorted(starts), sorted(t["os_tid"] for t in trace.threads))
        self.assertEqual(names[-1], "PythonThread")

    def test_record_etw_says_so_once_where_there_is_no_provider(self):
        script = self.write("p.py", "print('ok')\n")
        r = run([PY, "-m", "tracestore", "record", "--etw", "-o",
                 self.path("r.trace"), "--", script])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "ok\n")
        if os.path.exists("/sys/kernel/tracing/user_events_data"):
            return
        self.assertEqual(r.stderr.count("tracestore: --etw:"), 1, r.stderr)
        self.assertIn("recording into the trace only", r.stderr)
        self.assertTrue(Trace(self.path("r.trace")).data["closed"])


class EtwtraceCommandLine(TempDirTest):
    def test_profile_and_stacktags_exist(self):
        for opt in ("--profile", "--stacktags"):
            r = run([PY, "-m", "etwtrace", opt])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.isfile(r.stdout.strip()), r.stdout)

    def test_instrumented_run(self):
        script = self.write("p.py", "import sys\nprint(sys.argv)\n")
        r = run([PY, "-m", "etwtrace", "--instrumented", "--", script, "a"],
                cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "[%r, 'a']\n" % script)

    def test_errors(self):
        script = self.write("p.py", "print(1)\n")
        cases = [
            (["--capture", "x.etl", "--instrumented", "--", script],
             "only on Windows"),
            (["--frob"], "unknown option"),
            (["--instrumented"], "nothing to run"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                r = run([PY, "-m", "etwtrace"] + args, cwd=self.tmp)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(message, r.stderr)

    def test_api(self):
        import etwtrace
        os.environ["ETWTRACE_OUTPUT"] = self.path("api.trace")
        try:
            with etwtrace.tracing() as tid:
                self.assertEqual(tid, threading.get_ident())
                self.assertTrue(etwtrace.is_active())
                etwtrace.custom_mark("m")
                work(3)
            self.assertFalse(etwtrace.is_active())
        finally:
            del os.environ["ETWTRACE_OUTPUT"]
        trace = Trace(self.path("api.trace"))
        self.assertEqual([m["name"] for m in trace.data["marks"]], ["m"])


if __name__ == "__main__":
    unittest.main()
