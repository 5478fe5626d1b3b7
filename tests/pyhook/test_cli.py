"""python -m tracestore record: the program sees exactly what it would see
untraced (argv, __name__, stdout, stderr, exit status), the trace is closed
on every way out, and bad input gets a clear message and a non-zero exit."""

import json
import os
import signal
import sys
import unittest

from support import PY, TempDirTest, Trace, record, run

SHOW = r"""
import json, sys
print(json.dumps({"argv": sys.argv, "name": __name__,
                  "path0": sys.path[0]}))
sys.stderr.write("to stderr\n")
"""


class Record(TempDirTest):
    def trace(self, name="t.trace"):
        return self.path(name)

    def assert_closed(self, path):
        t = Trace(path)
        self.assertTrue(t.data["closed"], path)
        return t

    def test_script_sees_its_own_argv_and_name(self):
        script = self.write("show.py", SHOW)
        plain = run([PY, script, "a", "--b", "-c"], cwd=self.tmp)
        traced = record(["-o", self.trace()], [script, "a", "--b", "-c"],
                        cwd=self.tmp)
        self.assertEqual(traced.returncode, 0, traced.stderr)
        self.assertEqual(traced.stdout, plain.stdout)
        self.assertEqual(traced.stderr, plain.stderr)
        self.assertEqual(json.loads(traced.stdout)["name"], "__main__")
        self.assert_closed(self.trace())

    def test_module_sees_its_own_argv(self):
        self.write("pkg/__init__.py", "")
        self.write("pkg/tool.py", SHOW)
        plain = run([PY, "-m", "pkg.tool", "x", "-y"], cwd=self.tmp)
        traced = record(["-o", self.trace()], ["-m", "pkg.tool", "x", "-y"],
                        cwd=self.tmp)
        self.assertEqual(traced.returncode, 0, traced.stderr)
        self.assertEqual(traced.stdout, plain.stdout)
        argv0 = json.loads(traced.stdout)["argv"][0]
        self.assertTrue(argv0.endswith(os.path.join("pkg", "tool.py")), argv0)
        self.assert_closed(self.trace())

    def test_exit_codes_and_errors_pass_through(self):
        cases = {
            "exit3.py": "import sys\nsys.exit(3)\n",
            "exitmsg.py": "import sys\nsys.exit('fatal: no')\n",
            "raise.py": "def f():\n    raise ValueError('boom')\nf()\n",
            "ok.py": "print('fine')\n",
        }
        for name, text in cases.items():
            with self.subTest(name):
                script = self.write(name, text)
                out = self.trace(name + ".trace")
                plain = run([PY, script], cwd=self.tmp)
                traced = record(["-o", out], [script], cwd=self.tmp)
                self.assertEqual(traced.returncode, plain.returncode)
                self.assertEqual(traced.stdout, plain.stdout)
                self.assertEqual(traced.stderr, plain.stderr)
                self.assert_closed(out)

    def test_signals_close_the_trace(self):
        cases = {
            "sigint.py": (signal.SIGINT,
                          "import os, signal, time\n"
                          "def work():\n"
                          "    os.kill(os.getpid(), signal.SIGINT)\n"
                          "    time.sleep(10)\n"
                          "work()\n"),
            "sigterm.py": (signal.SIGTERM,
                           "import os, signal, time\n"
                           "def work():\n"
                           "    os.kill(os.getpid(), signal.SIGTERM)\n"
                           "    time.sleep(10)\n"
                           "work()\n"),
        }
        for name, (sig, text) in cases.items():
            with self.subTest(name):
                script = self.write(name, text)
                out = self.trace(name + ".trace")
                plain = run([PY, script], cwd=self.tmp)
                traced = record(["-o", out], [script], cwd=self.tmp)
                self.assertEqual(plain.returncode, -sig)
                self.assertEqual(traced.returncode, plain.returncode)
                t = self.assert_closed(out)
                names = {f["name"] for f in t.functions.values()}
                self.assertIn("work", names)

    def test_default_name_is_printed(self):
        script = self.write("prog.py", "print(1)\n")
        traced = record([], [script], cwd=self.tmp)
        self.assertEqual(traced.returncode, 0, traced.stderr)
        self.assertIn("tracestore: recording to prog-", traced.stderr)
        name = traced.stderr.split("recording to ", 1)[1].split()[0]
        self.assertTrue(name.endswith(".trace"))
        self.assert_closed(self.path(name))

    def test_filters(self):
        self.write("app/__init__.py", "")
        self.write("app/core.py", "def run():\n    return helper()\n"
                   "def helper():\n    return 1\n")
        self.write("appx.py", "def other():\n    return 2\n")
        self.write("app/skip.py", "def skipped():\n    return 3\n")
        script = self.write("main.py",
                            "import app.core, app.skip, appx, json\n"
                            "app.core.run(); app.skip.skipped(); appx.other()\n"
                            "json.dumps([1])\n")
        out = self.trace()
        r = record(["-o", out, "-i", "app", "-x", "app.skip"], [script],
                   cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        modules = {f["module"] for f in Trace(out).functions.values()}
        self.assertIn("app.core", modules)
        self.assertLessEqual(modules, {"app", "app.core"})
        out2 = self.trace("t2.trace")
        r = record(["-o", out2, "--exclude-stdlib"], [script], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        modules = {f["module"] for f in Trace(out2).functions.values()}
        self.assertIn("appx", modules)
        self.assertIn("app.skip", modules)
        self.assertFalse({"json", "json.encoder"} & modules, modules)

    def test_bad_input(self):
        script = self.write("ok.py", "print(1)\n")
        cases = [
            (["--frobnicate"], [script], "unrecognized arguments"),
            ([], [self.path("missing.py")], "no such file"),
            (["-o", "/proc/no/such/dir/t.trace"], [script], "cannot create"),
            (["-o", script], [script], "already exists"),
            (["--hook", "nope"], [script], "invalid choice"),
        ]
        for args, program, message in cases:
            with self.subTest(args=args, program=program):
                r = record(args, program, cwd=self.tmp)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(message, r.stderr)
        r = run([PY, "-m", "tracestore", "record"], cwd=self.tmp)
        self.assertEqual(r.returncode, 2)
        self.assertIn("nothing to run", r.stderr)
        r = run([PY, "-m", "tracestore", "frob"], cwd=self.tmp)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command", r.stderr)

    def test_unwritable_output_directory(self):
        if os.geteuid() == 0:
            self.skipTest("root can write anywhere; covered by /proc above")
        script = self.write("ok.py", "print(1)\n")
        locked = self.path("locked")
        os.mkdir(locked, 0o500)
        r = record(["-o", os.path.join(locked, "t.trace")], [script])
        self.assertEqual(r.returncode, 2)
        self.assertIn("not writable", r.stderr)

    def test_info_runs_the_native_cli(self):
        script = self.write("ok.py", "print(1)\n")
        out = self.trace()
        self.assertEqual(record(["-o", out], [script]).returncode, 0)
        r = run([PY, "-m", "tracestore", "info", out])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("state        closed", r.stdout)
        r = run([PY, "-m", "tracestore", "verify", out])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_query_names_the_tables_plainly(self):
        script = self.write("q.py", "def f(i):\n    return i\n"
                                    "for i in range(7):\n    f(i)\n")
        out = self.trace()
        self.assertEqual(record(["-o", out, "-i", "__main__"],
                                [script]).returncode, 0)
        r = run([PY, "-m", "tracestore", "query", out, "--json",
                 "SELECT name, count(*) AS n, min(depth) AS d FROM calls "
                 "WHERE name = 'f' GROUP BY name"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), [{"name": "f", "n": 7, "d": 1}])
        r = run([PY, "-m", "tracestore", "query", out, "SELECT nope FROM calls"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("no such column", r.stderr)

    def test_fork_does_not_touch_the_parent_trace(self):
        script = self.write("forks.py", r"""
import os, threading
def child_work():
    return sum(range(100))
def spin(stop):
    while not stop.is_set():
        child_work()
stop = threading.Event()
t = threading.Thread(target=spin, args=(stop,))
t.start()
for _ in range(5):
    pid = os.fork()
    if pid == 0:
        child_work()
        os._exit(0)
    os.waitpid(pid, 0)
stop.set()
t.join()
print("parent done")
""")
        out = self.trace()
        r = record(["-o", out], [script], cwd=self.tmp, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "parent done\n")
        self.assert_closed(out)
        v = run([PY, "-m", "tracestore", "verify", out])
        self.assertEqual(v.returncode, 0, v.stderr + v.stdout)

    def test_follow_children(self):
        child = self.write("child.py", "def c():\n    return 1\nc()\n")
        script = self.write("parent.py",
                            "import subprocess, sys\n"
                            "subprocess.check_call([sys.executable, %r])\n"
                            % child)
        out = self.trace()
        r = record(["-o", out, "--follow-children"], [script], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        kids = [n for n in os.listdir(out) if n.startswith("child-")]
        self.assertEqual(len(kids), 1, os.listdir(out))
        t = Trace(os.path.join(out, kids[0]))
        self.assertIn("c", {f["name"] for f in t.functions.values()})
        # multiprocessing, fork start method: no start-up code runs in the
        # child, the recorder starts its trace right after the fork.
        mp = self.write("mp.py",
                        "import multiprocessing as m\n"
                        "def work(q):\n    q.put(sum(range(10)))\n"
                        "if __name__ == '__main__':\n"
                        "    ctx = m.get_context('fork')\n"
                        "    q = ctx.Queue()\n"
                        "    p = ctx.Process(target=work, args=(q,))\n"
                        "    p.start(); print(q.get()); p.join()\n")
        out3 = self.trace("t3.trace")
        r = record(["-o", out3, "--follow-children"], [mp], cwd=self.tmp)
        self.assertEqual((r.returncode, r.stdout), (0, "45\n"), r.stderr)
        kids = [n for n in os.listdir(out3) if n.startswith("child-")]
        self.assertEqual(len(kids), 1, os.listdir(out3))
        t = Trace(os.path.join(out3, kids[0]))
        self.assertTrue(t.data["closed"])
        self.assertIn("work", {f["name"] for f in t.functions.values()})
        self.assertNotIn("work", {f["name"] for f in
                                  Trace(out3).functions.values()})
        out2 = self.trace("t2.trace")
        r = record(["-o", out2], [script], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse([n for n in os.listdir(out2) if n.startswith("child-")])


if __name__ == "__main__":
    unittest.main()
