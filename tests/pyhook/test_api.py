"""The Python API: tracing(), enable()/disable(), enable_if(), is_active(),
mark(), mark_range(), with_threads=False, --enable/--disable, and the error
an unsupported interpreter gets at import."""

import glob
import os
import subprocess
import sys
import threading
import unittest

import lines_workload
import tracestore
from support import PY, TempDirTest, Trace, hooks, run


def traced_function():
    return sum(range(10))


class Api(TempDirTest):
    def test_tracing_context_manager(self):
        out = self.path("t.trace")
        self.assertFalse(tracestore.is_active())
        with tracestore.tracing(out) as path:
            self.assertEqual(path, out)
            self.assertTrue(tracestore.is_active())
            self.assertEqual(tracestore.trace_path(), out)
            traced_function()
        self.assertFalse(tracestore.is_active())
        t = Trace(out)
        self.assertTrue(t.data["closed"])
        self.assertEqual(t.kinds("traced_function"), ["call", "return"])

    def test_enable_twice_is_an_error(self):
        with tracestore.tracing(self.path("a.trace")):
            with self.assertRaises(RuntimeError):
                tracestore.enable(self.path("b.trace"))
        tracestore.disable()  # no-op when not recording

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            tracestore.enable(self.path("c.trace"), include=[""])
        self.assertFalse(tracestore.is_active())
        with self.assertRaises(ValueError):
            tracestore.enable(self.path("d.trace"), hook="nope")
        with self.assertRaises(FileExistsError):
            os.makedirs(self.path("e.trace", "x"))
            tracestore.enable(self.path("e.trace"))
        self.assertFalse(tracestore.is_active())

    def test_lines_in_traced_code_only(self):
        for hook in hooks():
            with self.subTest(hook=hook):
                out = self.path("lines-%s.trace" % hook)
                with tracestore.tracing(out, lines=True, hook=hook,
                                        include=["lines_workload"]):
                    lines_workload.run()
                trace = Trace(out)
                names = {f["name"] for f in trace.functions.values()}
                self.assertEqual(names, {"run", "inner"})
                got = [(trace.name(fid), value)
                       for evs in trace.events for _, kind, fid, value in evs
                       if kind == "line"]
                first = lines_workload.inner.__code__.co_firstlineno
                self.assertEqual([v for n, v in got if n == "inner"],
                                 [first + 1, first + 2] * 3)

    def test_c_calls(self):
        for hook in hooks():
            with self.subTest(hook=hook):
                out = self.path("c-%s.trace" % hook)
                with tracestore.tracing(out, c_calls=True, hook=hook):
                    sorted([3, 1, 2])
                    len("abc")
                trace = Trace(out)
                c = {(f["module"], f["name"]) for f in trace.functions.values()
                     if not f["is_python"]}
                self.assertIn(("builtins", "sorted"), c)
                self.assertIn(("builtins", "len"), c)
                kinds = [k for evs in trace.events for _, k, fid, _ in evs
                         if trace.name(fid) == "sorted"]
                self.assertEqual(kinds, ["c_call", "c_return"])

    def test_marks(self):
        out = self.path("m.trace")
        with tracestore.tracing(out):
            tracestore.mark("point")
            with tracestore.mark_range("phase"):
                traced_function()
        marks = [(m["name"], m["kind"]) for m in Trace(out).data["marks"]]
        self.assertEqual(marks, [("point", "point"), ("phase", "start"),
                                 ("phase", "stop")])
        ns = [m["ns"] for m in Trace(out).data["marks"]]
        self.assertEqual(ns, sorted(ns))

    def test_enable_if(self):
        var = "TRACESTORE_TEST_ENABLE_IF"
        for value, expected in (("1", True), ("yes", True), ("0", False),
                                ("no", False), ("False", False), (None, False)):
            with self.subTest(value=value):
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value
                out = self.path("if-%s.trace" % value)
                self.assertEqual(tracestore.enable_if(var, output=out), expected)
                self.assertEqual(tracestore.is_active(), expected)
                tracestore.disable()
                self.assertEqual(os.path.isdir(out), expected)
        os.environ.pop(var, None)

    def test_with_threads_false(self):
        out = self.path("nt.trace")
        done = []
        with tracestore.tracing(out, with_threads=False):
            t = threading.Thread(target=lambda: done.append(traced_function()))
            t.start()
            t.join()
            traced_function()
        trace = Trace(out)
        self.assertEqual(len(trace.threads), 1)
        self.assertEqual(trace.kinds("traced_function"), ["call", "return"])
        self.assertEqual(done, [45])

    def test_threads_started_before_tracing(self):
        out = self.path("pre.trace")
        go, stop = threading.Event(), threading.Event()

        def loop():
            go.wait()
            while not stop.is_set():
                traced_function()
        t = threading.Thread(target=loop, name="early")
        t.start()
        with tracestore.tracing(out):
            go.set()
            while True:
                if Trace_has_events(out):
                    break
            stop.set()
            t.join()
        trace = Trace(out)
        names = [th["name"] for th in trace.threads]
        self.assertIn("early", names)

    def test_enable_pth(self):
        # In a virtual environment of this interpreter, so that the .pth
        # file never affects other processes of the interpreter itself.
        venv = self.path("venv")
        r = run([PY, "-m", "venv", "--without-pip", venv])
        self.assertEqual(r.returncode, 0, r.stderr)
        vpy = os.path.join(venv, "bin", "python")
        var = "TRACESTORE_TEST_PTH"
        r = run([vpy, "-m", "tracestore", "--enable", var])
        self.assertEqual(r.returncode, 0, r.stderr)
        script = self.write("p.py", "def f():\n    return 1\nf()\n")
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)  # the .pth finds the package itself
        env[var] = "1"
        r = run([vpy, script], cwd=self.tmp, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        traces = glob.glob(self.path("*.trace"))
        self.assertEqual(len(traces), 1, os.listdir(self.tmp))
        self.assertIn("f", {f["name"] for f in
                            Trace(traces[0]).functions.values()})
        # The program only: not the start-up (site, the .pth) nor the tool.
        self.assertEqual({f["module"] for f in
                          Trace(traces[0]).functions.values()}, {"__main__"})
        env[var] = "0"
        r = run([vpy, script], cwd=self.tmp, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(glob.glob(self.path("*.trace"))), 1)
        r = run([vpy, "-m", "tracestore", "--disable"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("removed", r.stdout)
        env[var] = "1"
        run([vpy, script], cwd=self.tmp, env=env)
        self.assertEqual(len(glob.glob(self.path("*.trace"))), 1)


def max_event_bytes(trace):
    """TraceHeader.max_event_bytes (format.h: offset 96), 0 when unbounded."""
    import struct
    with open(os.path.join(trace, "trace.header"), "rb") as f:
        return struct.unpack_from("<Q", f.read(104), 96)[0]


class FlightRecorderApi(TempDirTest):
    """max_size= through enable(), enable_if() and the .pth path (issue 17)."""

    def test_enable_and_enable_if_take_max_size(self):
        out1, out2, out3 = (self.path(n) for n in ("a.trace", "b.trace",
                                                    "c.trace"))
        code = (
            "import os, tracestore\n"
            "tracestore.enable(%r, max_size='8M'); tracestore.disable()\n"
            "os.environ['TS_FLIGHT'] = '1'\n"
            "os.environ['TRACESTORE_MAX_SIZE'] = '16M'\n"
            "assert tracestore.enable_if('TS_FLIGHT', output=%r)\n"
            "tracestore.disable()\n"
            "del os.environ['TRACESTORE_MAX_SIZE']\n"
            "assert tracestore.enable_if('TS_FLIGHT', output=%r)\n"
            "tracestore.disable()\n" % (out1, out2, out3))
        r = run([PY, "-c", code], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(max_event_bytes(out1), 8 << 20)
        self.assertEqual(max_event_bytes(out2), 16 << 20)
        self.assertEqual(max_event_bytes(out3), 0)

    def test_enable_pth_with_max_size(self):
        venv = self.path("venv")
        r = run([PY, "-m", "venv", "--without-pip", venv])
        self.assertEqual(r.returncode, 0, r.stderr)
        vpy = os.path.join(venv, "bin", "python")
        var = "TRACESTORE_TEST_PTH_FLIGHT"
        r = run([vpy, "-m", "tracestore", "--enable", var, "--max-size", "nope"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad size", r.stderr)
        r = run([vpy, "-m", "tracestore", "--enable", var, "--max-size", "8M"])
        self.assertEqual(r.returncode, 0, r.stderr)
        script = self.write("p.py", "def f():\n    return 1\nf()\n")
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env[var] = "1"
        r = run([vpy, script], cwd=self.tmp, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        traces = glob.glob(self.path("*.trace"))
        self.assertEqual(len(traces), 1, os.listdir(self.tmp))
        self.assertEqual(max_event_bytes(traces[0]), 8 << 20)
        self.assertIn("f", {f["name"] for f in
                            Trace(traces[0]).functions.values()})
        run([vpy, "-m", "tracestore", "--disable"])


def Trace_has_events(path):
    from tracestore import _tracestore
    d = _tracestore.load(path)
    return any(len(e) for e in d["events"][1:])


class Unsupported(unittest.TestCase):
    def test_other_pythons_get_a_clear_error(self):
        root = subprocess.run(["pyenv", "root"], stdout=subprocess.PIPE,
                              universal_newlines=True).stdout.strip() \
            if _which("pyenv") else os.environ.get("PYENV_ROOT", "")
        pythons = sorted(glob.glob(os.path.join(root, "versions", "*", "bin",
                                                "python")))
        from tracestore import _supported
        others = [p for p in pythons
                  if not any("/%d.%d." % v in p for v in _supported.minors())]
        if not others:
            self.skipTest("no unsupported interpreter installed")
        pkg = os.path.dirname(os.path.dirname(tracestore.__file__))
        for py in others:
            with self.subTest(py):
                r = subprocess.run([py, "-c", "import tracestore"],
                                   env=dict(os.environ, PYTHONPATH=pkg),
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE,
                                   universal_newlines=True)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertIn("tracestore supports %s" % _supported.describe(),
                              r.stderr)


def _which(name):
    import shutil
    return shutil.which(name)


if __name__ == "__main__":
    unittest.main()
