"""Profilers, debuggers and coverage tools keep working while the recorder
records, and the recorder still sees every call: cProfile, a
sys.settrace tracer, and (3.12+) the sys.monitoring tool ids CPython names
for them."""

import cProfile
import pstats
import sys
import unittest

import tracestore
from support import TempDirTest, Trace, hooks


def target(n):
    return n + 1


def calls_of(trace, name):
    return sum(1 for evs in trace.events for _, kind, fid, _ in evs
               if kind == "call" and trace.name(fid) == name)


class BesideOtherTools(TempDirTest):
    def test_cprofile_beside_every_backend(self):
        for hook in [None] + hooks():
            with self.subTest(hook=hook or "default"):
                out = self.path("cp-%s.trace" % (hook or "default"))
                prof = cProfile.Profile()
                with tracestore.tracing(out, hook=hook, quiet=True):
                    prof.enable()
                    for i in range(50):
                        target(i)
                    prof.disable()
                stats = pstats.Stats(prof).stats
                n = [v[1] for k, v in stats.items() if k[2] == "target"]
                self.assertEqual(n, [50])  # the program's profiler works
                if (hook or tracestore.default_hook()) == "setprofile":
                    # One profile function per thread: cProfile takes it
                    # over while enabled (documented in the README).
                    continue
                self.assertEqual(calls_of(Trace(out), "target"), 50)

    def test_settrace_beside_every_backend(self):
        for hook in [None] + hooks():
            with self.subTest(hook=hook or "default"):
                out = self.path("st-%s.trace" % (hook or "default"))
                seen = []

                def tracer(frame, event, arg):
                    if event == "call" and frame.f_code is target.__code__:
                        seen.append(1)
                    return None
                with tracestore.tracing(out, hook=hook, quiet=True):
                    sys.settrace(tracer)
                    for i in range(30):
                        target(i)
                    sys.settrace(None)
                self.assertEqual(len(seen), 30)
                self.assertEqual(calls_of(Trace(out), "target"), 30)

    @unittest.skipIf(sys.version_info < (3, 12), "sys.monitoring is 3.12+")
    def test_named_monitoring_tool_ids_stay_free(self):
        m = sys.monitoring
        with tracestore.tracing(self.path("m.trace"), quiet=True,
                                hook="monitoring", lines=True):
            for tool in (m.DEBUGGER_ID, m.COVERAGE_ID, m.PROFILER_ID):
                self.assertIsNone(m.get_tool(tool), tool)
                m.use_tool_id(tool, "other")
                m.free_tool_id(tool)
            self.assertEqual(m.get_tool(3), "tracestore")
        self.assertIsNone(m.get_tool(3))

    @unittest.skipIf(sys.version_info < (3, 12), "sys.monitoring is 3.12+")
    def test_other_unnamed_tool_id_when_one_is_taken(self):
        m = sys.monitoring
        m.use_tool_id(3, "other")
        try:
            with tracestore.tracing(self.path("m4.trace"), quiet=True,
                                    hook="monitoring"):
                self.assertEqual(m.get_tool(4), "tracestore")
                for i in range(5):
                    target(i)
            self.assertEqual(calls_of(Trace(self.path("m4.trace")), "target"), 5)
        finally:
            m.free_tool_id(3)


if __name__ == "__main__":
    unittest.main()
