"""No call is missed when CPython has specialised the code before tracing
starts, or specialises it while tracing runs: per-function counts equal an
independent sys.setprofile counter's (warm_workload.py, run separately), on
every backend and the default, for tracing started late and at process
start. On CPython 3.11.0-3.11.3 (Debian 12's own python3.11), where the
eval-frame hook cannot be exact, the default must still be, and asking for
eval-frame must say so."""

import json
import os
import shutil
import subprocess
import sys
import unittest

import tracestore
from support import HERE, PY, VERSION, TempDirTest, Trace, hooks, run

WORKLOAD = os.path.join(HERE, "warm_workload.py")
DEBIAN_PY311 = "/usr/bin/python3.11"


def phase_counts(trace_path):
    """Calls + resumes per "file:line:name" between the call of
    phase_begin and the call of phase_end, on the thread that ran them."""
    t = Trace(trace_path)
    for evs in t.events:
        begin = end = None
        for i, (_, kind, fid, _) in enumerate(evs):
            if kind != "call":
                continue
            name = t.name(fid)
            if name == "phase_begin" and begin is None:
                begin = i
            elif name == "phase_end" and begin is not None:
                end = i
                break
        if begin is None or end is None:
            continue
        counts = {}
        for _, kind, fid, _ in evs[begin + 1:end]:
            if kind in ("call", "resume"):
                f = t.functions[fid]
                if not f.get("is_python", True):
                    continue
                k = "%s:%d:%s" % (f["file"], f["line"], f["name"])
                counts[k] = counts.get(k, 0) + 1
        return counts
    raise AssertionError("no phase_begin ... phase_end in %s" % trace_path)


def differences(want, got):
    keys = set(want) | set(got)
    return {k: (want.get(k), got.get(k)) for k in sorted(keys)
            if want.get(k) != got.get(k)}


class LateStart(TempDirTest):
    def oracle(self, mode, exe=PY):
        out = self.path("oracle-%s.json" % mode)
        p = run([exe, WORKLOAD, mode, out])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(out) as f:
            counts = json.load(f)
        self.assertGreater(len(counts), 20)
        return counts

    def assert_exact(self, want, trace_path, label):
        got = phase_counts(trace_path)
        diff = differences(want, got)
        self.assertEqual(diff, {}, "%s: (setprofile counter, recorder) per "
                         "function where they differ" % label)

    def late(self, hook, exe=PY):
        out = self.path("late-%s.trace" % (hook or "default"))
        shutil.rmtree(out, ignore_errors=True)
        args = [exe, WORKLOAD, "late-trace", out] + ([hook] if hook else [])
        p = run(args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return out, p

    def at_start(self, hook, exe=PY):
        out = self.path("start-%s.trace" % (hook or "default"))
        shutil.rmtree(out, ignore_errors=True)
        args = [exe, "-m", "tracestore", "record", "-o", out]
        args += ["--hook", hook] if hook else []
        p = run(args + ["--", WORKLOAD, "start"])
        self.assertEqual(p.returncode, 0, p.stderr)
        return out, p

    def test_warmed_up_code_every_backend(self):
        want = self.oracle("late-oracle")
        for hook in [None] + hooks():
            with self.subTest(hook=hook or "default"):
                out, _ = self.late(hook)
                self.assert_exact(want, out, "late start, %s" % hook)

    def test_from_process_start_every_backend(self):
        want = self.oracle("start-oracle")
        for hook in [None] + hooks():
            with self.subTest(hook=hook or "default"):
                out, _ = self.at_start(hook)
                self.assert_exact(want, out, "process start, %s" % hook)

    def test_default_hook_is_exact_here(self):
        self.assertIsNone(tracestore._session.hook_caveat(
            tracestore.default_hook()))


def debian_python311():
    """Debian's own /usr/bin/python3.11 if it is another patch release than
    this interpreter and loads this build's 3.11 extension."""
    if VERSION != (3, 11) or not os.access(DEBIAN_PY311, os.X_OK):
        return None
    p = subprocess.run([DEBIAN_PY311, "-c", "import sys, tracestore; "
                        "print('%d.%d.%d' % sys.version_info[:3])"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True,
                       env=dict(os.environ, PYTHONPATH=os.path.dirname(
                           os.path.dirname(tracestore.__file__))))
    if p.returncode != 0 or p.stdout.strip() == "%d.%d.%d" % sys.version_info[:3]:
        return None
    return p.stdout.strip()


@unittest.skipUnless(debian_python311(), "needs Debian 12's /usr/bin/python3.11 "
                     "(another 3.11 patch release) and the 3.11 build")
class OldPatchRelease(LateStart):
    """The same checks with Debian 12's python3.11 (3.11.2): its specialised
    __getitem__ calls skip PEP 523 hooks (CPython gh-104405)."""

    def test_warmed_up_code_every_backend(self):
        want = self.oracle("late-oracle", DEBIAN_PY311)
        for hook in [None, "setprofile"]:
            with self.subTest(hook=hook or "default"):
                out, _ = self.late(hook, DEBIAN_PY311)
                self.assert_exact(want, out, "3.11.2 late start, %s" % hook)

    def test_from_process_start_every_backend(self):
        want = self.oracle("start-oracle", DEBIAN_PY311)
        out, p = self.at_start(None, DEBIAN_PY311)
        self.assertNotIn("note:", p.stderr)
        self.assert_exact(want, out, "3.11.2 process start, default")

    def test_default_hook_is_exact_here(self):
        p = run([DEBIAN_PY311, "-c", "import tracestore; "
                 "print(tracestore.default_hook())"])
        self.assertEqual(p.stdout.strip(), "setprofile", p.stderr)

    def test_eval_frame_says_it_is_inexact(self):
        # Asked for, eval-frame says in one line what it misses, and it
        # really does miss __getitem__ calls: the note is not idle.
        want = self.oracle("late-oracle", DEBIAN_PY311)
        out = self.path("asked.trace")
        p = run([DEBIAN_PY311, "-m", "tracestore", "record", "-o", out,
                 "--hook", "eval-frame", "--", WORKLOAD, "start"])
        self.assertEqual(p.returncode, 0, p.stderr)
        notes = [l for l in p.stderr.splitlines() if "note:" in l]
        self.assertEqual(len(notes), 1, p.stderr)
        self.assertIn("gh-104405", notes[0])
        out, _ = self.late("eval-frame", DEBIAN_PY311)
        diff = differences(want, phase_counts(out))
        self.assertTrue(any("__getitem__" in k for k in diff), diff)


if __name__ == "__main__":
    unittest.main()
