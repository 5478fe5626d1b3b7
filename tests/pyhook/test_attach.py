"""python -m tracestore attach / detach (CPython 3.14+): recording starts
inside a running program and stops again, the program goes on untouched,
and the trace holds the calls the program made meanwhile; clear errors for
a second attach, a detach of a process not attached, a missing process and
a process with remote debugging disabled; a clear refusal before 3.14."""

import json
import os
import subprocess
import sys
import time
import unittest

from support import HERE, PY, TempDirTest, env, load, run

TARGET = os.path.join(HERE, "attach_target.py")
CAN_ATTACH = sys.version_info >= (3, 14)


def cli(*args):
    return run([PY, "-m", "tracestore"] + list(args), timeout=120)


class Target:
    """attach_target.py running in the background."""

    def __init__(self, tmp, extra_env=None):
        self.stop_file = os.path.join(tmp, "stop")
        e = env(**(extra_env or {}))
        e.pop("PYTHONPATH", None)  # the target does not have the package
        self.p = subprocess.Popen([PY, TARGET, self.stop_file], env=e,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE,
                                  universal_newlines=True)
        self.first = self.p.stdout.readline()

    def finish(self):
        open(self.stop_file, "w").close()
        out, err = self.p.communicate(timeout=120)
        return self.p.returncode, out, err


@unittest.skipIf(CAN_ATTACH, "attach works here")
class AttachNeeds314(unittest.TestCase):
    def test_refused_with_reason(self):
        r = cli("attach", str(os.getpid()))
        self.assertEqual(r.returncode, 2)
        self.assertIn("needs CPython 3.14", r.stderr)


@unittest.skipUnless(CAN_ATTACH, "sys.remote_exec needs CPython 3.14+")
class Attach(TempDirTest):
    def test_attach_records_while_attached_and_detaches(self):
        t = Target(self.tmp)
        self.assertEqual(t.first, "ready\n")
        trace = self.path("attached.trace")
        r = cli("attach", str(t.p.pid), "-o", trace, "-i", "__main__")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("recording process %d" % t.p.pid, r.stderr)
        again = cli("attach", str(t.p.pid), "-o", self.path("twice.trace"))
        self.assertEqual(again.returncode, 2)
        self.assertIn("already recording into %s" % trace, again.stderr)
        time.sleep(1.5)
        r = cli("detach", str(t.p.pid))
        self.assertEqual(r.returncode, 0, r.stderr)
        r2 = cli("detach", str(t.p.pid))
        self.assertEqual(r2.returncode, 2)
        self.assertIn("not attached", r2.stderr)
        rc, out, err = t.finish()
        self.assertEqual((rc, err), (0, ""))
        counts = json.loads(out.splitlines()[-1])
        self.assertEqual(set(counts), {"MainThread", "early", "late"}, counts)
        v = cli("verify", trace)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        data = load(trace)
        names = [th["name"] for th in data["threads"]]  # events' order
        work = {f["id"] for f in data["functions"] if f["name"] == "work"}
        got = {}
        for i, evs in enumerate(data["events"]):
            n = sum(1 for _, kind, fid, _ in evs if kind == "call" and fid in work)
            if n:
                got[names[i]] = n
        self.assertEqual(set(got), set(counts), (got, counts))
        for name, n in counts.items():
            # A call in flight when the session starts or stops may be on
            # one side only: at most one per thread at each end.
            self.assertLessEqual(abs(got[name] - n), 2, (name, got, counts))
            self.assertGreater(n, 10)

    def test_errors(self):
        r = cli("attach", "999999999")
        self.assertEqual(r.returncode, 2)
        self.assertIn("no process 999999999", r.stderr)
        t = Target(self.tmp)
        r = cli("detach", str(t.p.pid))
        self.assertEqual(r.returncode, 2)
        self.assertIn("not attached", r.stderr)
        rc, out, err = t.finish()
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(json.loads(out.splitlines()[-1]), {})

    def test_remote_debugging_disabled(self):
        t = Target(self.tmp, {"PYTHON_DISABLE_REMOTE_DEBUG": "1"})
        r = cli("attach", str(t.p.pid))
        self.assertEqual(r.returncode, 2)
        self.assertIn("remote debugging is disabled", r.stderr)
        self.assertEqual(t.finish()[0], 0)


if __name__ == "__main__":
    unittest.main()
