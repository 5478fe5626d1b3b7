"""What a user reads (issue 19): a filter that matches nothing says so, a
non-module -i is refused up front, --include-path selects code without a
module name, record --force; generator resumes are not counted as calls
(SQL, top, exports); per-function total time counts recursion once in SQL
as `top` does and as an independent computation from the events does."""

import collections
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

from support import PY, TempDirTest, Trace, record, run

CLI = os.environ.get("TRACESTORE_CLI") or shutil.which("tracestore")

SHOP = {
    "shop/__init__.py": "",
    "shop/cart.py": "def total(items):\n    return sum(items)\n",
    "main.py": "import sys\nfrom shop import cart\n"
               "for i in range(5):\n    cart.total([i, 2])\n"
               "sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)\n",
}

GENERATORS = r"""
import sys
calls = 0

def numbers(n):
    global calls
    calls += 1
    for i in range(n):
        yield i

async def child(k):
    global calls
    calls += 1
    return k

async def parent(n):
    global calls
    calls += 1
    s = 0
    for k in range(n):
        s += await child(k)
    return s

def a_function_whose_name_is_long_enough_to_need_two_length_bytes_in_the_perfetto_export_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx():
    global calls
    calls += 1

total = 0
for n in range(40):
    total += sum(numbers(n % 7 + 3))
a_function_whose_name_is_long_enough_to_need_two_length_bytes_in_the_perfetto_export_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx()
import asyncio
total += asyncio.run(parent(30))
print(calls)
"""

RECURSION = r"""
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)

def ping(n):
    return 0 if n == 0 else pong(n - 1)

def pong(n):
    return 0 if n == 0 else ping(n - 1) + 1

def work():
    s = 0
    for i in range(200):
        s += fact(i % 30) + ping(i % 25)
    return s

work()
"""


def query(trace, sql):
    p = run([CLI, "query", trace, "--json", sql])
    if p.returncode != 0:
        raise AssertionError(p.stderr)
    return json.loads(p.stdout)


class Filters(TempDirTest):
    def shop(self):
        for name, text in SHOP.items():
            self.write(name, text)
        return self.path("main.py")

    def test_non_module_prefixes_are_refused_before_anything_runs(self):
        main = self.shop()
        cases = {
            "shop.*": "no wildcards: 'shop' already matches",
            "shop/": "use --include-path for files",
            "src/shop.py": "use --include-path for files",
            "my shop": "dotted name",
        }
        for prefix, why in cases.items():
            with self.subTest(prefix):
                out = self.path("bad.trace")
                p = record(["-o", out, "-i", prefix], [main], cwd=self.tmp)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertIn("include prefix %r is not a module name" % prefix,
                              p.stderr)
                self.assertIn(why, p.stderr)
                self.assertEqual(p.stdout, "")
                self.assertFalse(os.path.exists(out))
        p = record(["-o", self.path("x.trace"), "-x", "shop*"], [main],
                   cwd=self.tmp)
        self.assertEqual(p.returncode, 2)
        self.assertIn("exclude prefix 'shop*' is not a module name", p.stderr)
        # The API refuses them too.
        import tracestore
        with self.assertRaises(ValueError):
            tracestore.enable(self.path("api.trace"), include=["shop.*"])
        self.assertFalse(tracestore.is_active())

    def test_a_prefix_that_matches_nothing_is_reported_at_the_end(self):
        main = self.shop()
        out = self.path("t.trace")
        # The program's own exit status is kept.
        p = record(["-o", out, "-i", "Shop", "-i", "shop.kart"], [main, "3"],
                   cwd=self.tmp)
        self.assertEqual(p.returncode, 3, p.stderr)
        lines = [l for l in p.stderr.splitlines() if "warning" in l]
        self.assertEqual(lines, [
            "tracestore: warning: -i Shop matched no module that ran; "
            "nearest: shop, shop.cart",
            "tracestore: warning: -i shop.kart matched no module that ran; "
            "nearest: shop.cart, shop",
        ], p.stderr)
        self.assertEqual(query(out, "SELECT count(*) AS n FROM calls"),
                         [{"n": 0}])
        # A prefix that matched says nothing; -q silences the rest.
        p = record(["-o", self.path("u.trace"), "-i", "shop", "-i", "nope"],
                   [main], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("-i shop ", p.stderr)
        self.assertIn("-i nope matched no module that ran", p.stderr)
        p = record(["-q", "-o", self.path("v.trace"), "-i", "nope"], [main],
                   cwd=self.tmp)
        self.assertEqual((p.returncode, p.stderr), (0, ""))

    def test_many_unmatched_includes_are_summed_up(self):
        from tracestore import _session
        lines = _session.unmatched_includes(
            ["m%d" % i for i in range(3000)], [],
            ["m%d.x" % i for i in range(0, 6000, 2)], [])
        self.assertEqual(len(lines), 21)
        self.assertTrue(lines[0].startswith(
            "-i m1 matched no module that ran; nearest: m1"), lines[0])
        self.assertEqual(lines[-1],
                         "... and 1480 more includes that matched nothing")

    def test_include_path_selects_code_without_a_module(self):
        template = self.write("templates/page.tmpl", "")
        self.write("prog.py", (
            "src = 'def render(x):\\n    return x * 2\\n'\n"
            "ns = {}\n"  # no __name__: like Jinja's compiled templates
            "exec(compile(src, %r, 'exec'), ns)\n"
            "def helper():\n    return 1\n"
            "for i in range(4):\n    ns['render'](i)\n    helper()\n"
        ) % template)
        out = self.path("t.trace")
        p = record(["-o", out, "--include-path", "templates"], ["prog.py"],
                   cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("warning", p.stderr)
        rows = query(out, "SELECT name, module, count(*) AS n FROM calls "
                          "GROUP BY name ORDER BY name")
        self.assertEqual(rows, [{"name": "<module>", "module": None, "n": 1},
                                {"name": "render", "module": None, "n": 4}])
        # With -i too: either selects (helper is __main__'s).
        out2 = self.path("u.trace")
        p = record(["-o", out2, "-i", "__main__", "--include-path",
                    "templates/page.tmpl"], ["prog.py"], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        names = {r["name"]: r["n"] for r in query(
            out2, "SELECT name, count(*) AS n FROM calls GROUP BY name")}
        self.assertEqual(names["render"], 4)
        self.assertEqual(names["helper"], 4)
        # --exclude-path wins.
        out3 = self.path("w.trace")
        p = record(["-o", out3, "--exclude-path", "templates"], ["prog.py"],
                   cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        names = {r["name"] for r in query(
            out3, "SELECT DISTINCT name FROM calls")}
        self.assertIn("helper", names)
        self.assertNotIn("render", names)
        # A path that matched nothing says so, with the nearest file seen.
        p = record(["-o", self.path("x.trace"), "--include-path",
                    "templates/pages.tmpl"], ["prog.py"], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("tracestore: warning: --include-path %s matched no file "
                      "that ran; nearest: %s"
                      % (self.path("templates/pages.tmpl"), template),
                      p.stderr)

    def test_record_force_replaces_a_trace_only(self):
        main = self.shop()
        out = self.path("t.trace")
        self.assertEqual(record(["-o", out], [main], cwd=self.tmp).returncode, 0)
        p = record(["-o", out], [main], cwd=self.tmp)
        self.assertEqual(p.returncode, 2)
        self.assertIn("already exists (use --force to replace it)", p.stderr)
        p = record(["-o", out, "--force", "-i", "shop"], [main], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(query(out, "SELECT count(*) AS n FROM calls"
                                    " WHERE name = 'total'"), [{"n": 5}])
        # Never a directory that is not a trace.
        other = self.path("notes")
        os.makedirs(other)
        self.write("notes/keep.txt", "mine")
        p = record(["-o", other, "--force"], [main], cwd=self.tmp)
        self.assertEqual(p.returncode, 2)
        self.assertIn("is a directory but not a trace", p.stderr)
        self.assertTrue(os.path.exists(self.path("notes/keep.txt")))


class Help(TempDirTest):
    def test_help_lists_every_command(self):
        p = run([PY, "-m", "tracestore", "--help"])
        self.assertEqual(p.returncode, 0, p.stderr)
        for command in ("record", "attach", "query", "top", "export",
                        "info|verify", "--force", "--include-path",
                        "perfetto"):
            self.assertIn(command, p.stdout)

    def test_etwtrace_info(self):
        p = run([PY, "-m", "etwtrace", "--info"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("99a10640-320d-4b37-9e26-c311d86da7ab", p.stdout)
        self.assertIn("events to:", p.stdout)
        self.assertIn("CPython %d.%d" % sys.version_info[:2], p.stdout)
        p = run([PY, "-m", "etwtrace", "--nope"])
        self.assertEqual(p.returncode, 2)


class Counts(TempDirTest):
    def test_resumes_are_not_calls(self):
        script = self.write("gen.py", GENERATORS)
        out = self.path("t.trace")
        p = record(["-o", out, "-i", "__main__"], [script], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        program_calls = int(p.stdout)
        t = Trace(out)
        resumes = sum(1 for evs in t.events for e in evs if e[1] == "resume")
        self.assertGreater(resumes, program_calls)  # generator-heavy
        # SQL: kind tells them apart.
        rows = query(out, "SELECT sum(kind = 'call') AS calls,"
                          " sum(kind = 'resume') AS resumes FROM calls"
                          " WHERE name IN ('numbers', 'child', 'parent')")
        self.assertEqual(rows, [{"calls": program_calls - 1,
                                 "resumes": resumes}])
        # top counts calls.
        p = run([CLI, "top", out, "--once", "-n", "50"])
        self.assertEqual(p.returncode, 0, p.stderr)
        shown = top_columns(p.stdout)
        self.assertEqual(sum(shown[n]["calls"] for n in
                             ("numbers", "child", "parent")),
                         program_calls - 1, p.stdout)
        # Exports count calls (and say how many resumes).
        p = run([CLI, "export", out, "--format", "chrome", "-o",
                 self.path("t.json")])
        self.assertEqual(p.returncode, 0, p.stderr)
        all_calls = query(out, "SELECT count(*) AS n FROM calls"
                               " WHERE kind != 'resume'")[0]["n"]
        self.assertIn("(chrome: %d calls, " % all_calls, p.stdout)
        self.assertIn("%d generator/coroutine resumes" % resumes, p.stdout)
        # The html page's function table too.
        p = run([CLI, "export", out, "--format", "html", "-o",
                 self.path("t.html")])
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(self.path("t.html")) as f:
            page = f.read()
        data = json.loads(re.search(r'"functions":(\[.*?\]),\n"function_count"',
                                    page, re.S).group(1))
        html_calls = sum(row[3] for row in data)  # [name, file, line, calls,
        #                                            self, total]
        self.assertEqual(html_calls, all_calls)
        # The Perfetto export: a slice per row of calls (calls and resumes),
        # decoded with protoc against the schema in the repo.
        protoc = shutil.which("protoc")
        if protoc is None:
            return
        p = run([CLI, "export", out, "--format", "perfetto", "-o",
                 self.path("t.pftrace")])
        self.assertEqual(p.returncode, 0, p.stderr)
        schema = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "..", "..", "tracestore", "src", "export")
        with open(self.path("t.pftrace"), "rb") as f:
            d = subprocess.run([protoc, "--decode=perfetto.protos.Trace",
                                "-I", schema, "perfetto_trace.proto"],
                               stdin=f, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
        self.assertEqual(d.returncode, 0, d.stderr)
        text = d.stdout.decode()
        self.assertEqual(text.count("type: TYPE_SLICE_BEGIN"),
                         all_calls + resumes)
        self.assertEqual(text.count("type: TYPE_SLICE_END"),
                         all_calls + resumes)
        self.assertIn('name: "__main__.a_function_whose_name_is_long', text)

    def test_total_time_counts_recursion_once(self):
        script = self.write("rec.py", RECURSION)
        out = self.path("t.trace")
        p = record(["-o", out, "-i", "__main__"], [script], cwd=self.tmp)
        self.assertEqual(p.returncode, 0, p.stderr)
        # Independently, from the events (ns): a call's time counts only
        # when no call of the same function is open below it.
        t = Trace(out)
        expected = collections.Counter()
        for evs in t.events:
            stack = []
            for ns, kind, fid, _ in evs:
                if kind in ("call", "resume"):
                    stack.append((fid, ns))
                elif kind in ("return", "unwind", "yield") and stack:
                    f, start = stack.pop()
                    self.assertEqual(f, fid)
                    if all(g != f for g, _ in stack):
                        expected[t.name(f)] += ns - start
        sql = {r["name"]: r for r in query(
            out, "SELECT name, sum(dur) AS naive,"
                 " sum(dur) FILTER (WHERE NOT recursive) AS total"
                 " FROM calls GROUP BY name")}
        profile = {r["name"]: r for r in query(
            out, "SELECT name, calls, total_dur FROM profile")}
        for name in ("fact", "ping", "pong", "work"):
            self.assertEqual(sql[name]["total"], expected[name], name)
            self.assertEqual(profile[name]["total_dur"], expected[name], name)
        for name in ("fact", "ping", "pong"):
            self.assertGreater(sql[name]["naive"], sql[name]["total"], name)
        # top's TOTAL column gives the same answer, to its display's
        # precision and to the nanosecond per call that converting each
        # call's ticks to ns (as the events above are) rounds differently
        # from converting the sum.
        p = run([CLI, "top", out, "--once", "-n", "50"])
        self.assertEqual(p.returncode, 0, p.stderr)
        shown = top_columns(p.stdout)
        for name in ("fact", "ping", "pong", "work"):
            self.assertIn(name, shown, p.stdout)
            self.assertEqual(shown[name]["calls"], profile[name]["calls"])
            self.assertTrue(same_ms(shown[name], expected[name] / 1e6,
                                    profile[name]["calls"]),
                            (name, expected[name], p.stdout))


UNITS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}


def top_columns(text):
    """{name: {"calls", "total" (ms), "unit" (ms)}} from `top --once`:
    rows SELF SELF% TOTAL TOTAL% CALLS CALLS/S [*] FUNCTION."""
    rows = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 7 or not parts[-1].startswith("__main__."):
            continue
        m = re.match(r"([\d.]+)(ns|us|ms|s)$", parts[2])
        if not m:
            continue
        rows[parts[-1][len("__main__."):]] = {
            "calls": int(parts[4].replace(",", "")),
            "total": float(m.group(1)) * UNITS[m.group(2)],
            "unit": UNITS[m.group(2)]}
    return rows


def same_ms(row, ms, calls):
    """Whether top's rounded TOTAL is `ms`, the sum of `calls` durations
    each converted to whole ns: half a unit of the last digit shown, plus
    a ns a call."""
    return abs(row["total"] - ms) <= 0.05 * row["unit"] + calls * 1e-6 + 1e-9


if __name__ == "__main__":
    unittest.main()
