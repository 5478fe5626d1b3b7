"""The recorder's counts equal a sys.settrace counter's for the same run:
calls per Python function, and caller -> callee pairs, for every backend, on
a stdlib workload (json, re, difflib, textwrap), a threaded one, and one of
generators and coroutines."""

import os
import sys
import unittest

import tracestore
import workloads
from counter import Counter
from support import TempDirTest, Trace, hooks

SKIP_FILES = ("threading.py", "counter.py", "support.py")


# Finalizers and weakref callbacks run when an object dies, which can be
# while the dying frame is torn down: settrace has reported that frame's
# return by then and the recorder not yet, so their caller differs by one
# frame. Their counts are still compared; their callers are not.
FINALIZERS = ("__del__", "_remove")


def finalizer(key):
    return key is not None and key[2].rsplit(".", 1)[-1] in FINALIZERS


def interesting(key):
    if key is None:
        return True
    path = key[0]
    if os.path.basename(path) in SKIP_FILES:
        return False
    return not any(part in path for part in ("unittest", "tracestore"))


class ExactCounts(TempDirTest):
    def record_with_counter(self, hook, fn):
        counter = Counter()
        out = self.path("t-%s-%d.trace" % (hook, len(os.listdir(self.tmp))))
        tracestore.enable(out, exclude=["counter"], hook=hook)
        try:
            counter.start()
            fn()
            counter.stop()
        finally:
            tracestore.disable()
        return Trace(out), counter

    def assert_same(self, trace, counter):
        want = {k: v for k, v in counter.entries.items() if interesting(k)}
        got = {k: v for k, v in trace.entries().items() if interesting(k)}
        self.assertGreater(len(want), 3)
        missing = {k: v for k, v in want.items() if got.get(k) != v}
        extra = {k: v for k, v in got.items() if k not in want}
        self.assertEqual((missing, extra), ({}, {}),
                         "calls per function differ (counter's, then ours "
                         "where they differ): %r" % (
                             {k: (v, got.get(k)) for k, v in missing.items()},))
        # A None caller means the caller started before recording did; which
        # frames those are depends on when each tool hooked the thread.
        want_pairs = {p: n for p, n in counter.pairs.items()
                      if p[0] is not None and interesting(p[0])
                      and interesting(p[1]) and not finalizer(p[1])}
        got_pairs = {p: n for p, n in trace.pairs().items()
                     if p[0] is not None and interesting(p[0])
                     and interesting(p[1]) and not finalizer(p[1])}
        diff = {p: (want_pairs.get(p), got_pairs.get(p))
                for p in set(want_pairs) | set(got_pairs)
                if want_pairs.get(p) != got_pairs.get(p)}
        self.assertEqual(diff, {}, "caller -> callee pairs differ")

    def test_stdlib_workload(self):
        for hook in hooks():
            with self.subTest(hook=hook):
                trace, counter = self.record_with_counter(
                    hook, workloads.stdlib_work)
                self.assert_same(trace, counter)

    def test_threaded_workload(self):
        for hook in hooks():
            with self.subTest(hook=hook):
                trace, counter = self.record_with_counter(
                    hook, lambda: workloads.threaded(4, 300))
                self.assert_same(trace, counter)
                names = {t["name"] for t in trace.threads}
                self.assertTrue({"worker-%d" % i for i in range(4)} <= names,
                                names)
                for i, t in enumerate(trace.threads):
                    if t["name"].startswith("worker-"):
                        self.assertEqual(trace.kinds("leaf", i).count("call"),
                                         300)
                        self.assertIsNotNone(t["end_ns"])
                        self.assertLessEqual(t["start_ns"], t["end_ns"])

    def test_generators_and_coroutines(self):
        for hook in hooks():
            with self.subTest(hook=hook):
                trace, counter = self.record_with_counter(
                    hook, workloads.generators)
                self.assert_same(trace, counter)
                # A generator: called once, suspends at each yield, resumes
                # for each next value and for the final StopIteration.
                gen = ["call"] + ["yield", "resume"] * 5 + ["return"]
                legacy_profile = hook == "setprofile" and \
                    sys.version_info >= (3, 12)
                self.assertEqual(trace.kinds("gen"), gen)
                # An exception leaving a frame is an unwind (setprofile on
                # 3.12+ cannot tell it from a return).
                self.assertIn(trace.kinds("raiser")[-1],
                              ("return", "unwind") if legacy_profile
                              else ("unwind",))
                # A coroutine awaiting sleep(0) suspends once.
                leaf = trace.kinds("leaf_coro")
                self.assertEqual(leaf.count("call"), 3)
                self.assertEqual(leaf[0], "call")


if __name__ == "__main__":
    unittest.main()
