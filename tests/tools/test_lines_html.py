"""The HTML report's line view (issue 20), in headless Chromium: a trace of
tests/pyhook/line_cost_workload.py recorded with --lines, exported with
`tracestore export --format html`, opened as page.html#lines=NAME (which
clicks NAME in the function table, as a user would): the function's source
is in the DOM with a heat bar per line, and the hottest line (the one that
sleeps) is the highlighted row. Without the hash the view stays hidden; a
trace without line events has no line data.

Run by ctest with TRACESTORE_CLI, TRACED_PYTHON and PYTHONPATH set.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

CLI = os.environ["TRACESTORE_CLI"]
PY = os.environ.get("TRACED_PYTHON")
HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "..", "pyhook", "line_cost_workload.py")


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True,
                          timeout=kw.pop("timeout", 120), **kw)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def page_data(path):
    with open(path) as f:
        page = f.read()
    start = page.index('type="application/json">') + len('type="application/json">')
    return json.loads(page[start:page.index("</script>", start)])


@unittest.skipUnless(PY, "needs TRACED_PYTHON (an interpreter the build supports)")
class LineView(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tslineshtml-")
        cls.trace = os.path.join(cls.tmp, "lines.trace")
        r = run([PY, "-m", "tracestore", "record", "--lines", "-o", cls.trace,
                 "--", WORKLOAD, "50"])
        assert r.returncode == 0, r.stderr
        cls.page = os.path.join(cls.tmp, "lines.html")
        r = run([CLI, "export", cls.trace, "--format", "html", "-o", cls.page,
                 "--no-progress"])
        assert r.returncode == 0, r.stderr
        with open(os.path.realpath(WORKLOAD)) as f:
            cls.source = f.read().splitlines()
        cls.sleep_line = next(i for i, t in enumerate(cls.source, 1)
                              if "# LINE_SLEEP" in t)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def dom(self, url):
        browser = chromium()
        if browser is None:
            self.skipTest("chromium is not installed (apt-get install chromium; "
                          "tools/lib/setup.sh lists it)")
        profile = tempfile.mkdtemp(prefix="tschromium-", dir=self.tmp)
        r = run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--user-data-dir=" + profile,
                 "--host-resolver-rules=MAP * ~NOTFOUND",
                 "--virtual-time-budget=3000", "--dump-dom", url])
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        return r.stdout

    def test_data(self):
        data = page_data(self.page)
        work = [e for e in data["lines"] if data["names"][e[0]] == "__main__.work"]
        self.assertEqual(len(work), 1)
        name, first, status, src, rows = work[0]
        self.assertEqual(status, 0)
        self.assertEqual(src[0], self.source[first - 1])
        self.assertIn("def work(loops):", src)
        lines = rows[0::4]
        self.assertIn(self.sleep_line, lines)
        # The page's numbers are the SQL table's.
        r = run([CLI, "query", self.trace, "--json",
                 "SELECT line, hits, self_time, time_in_calls FROM lines "
                 "WHERE name = 'work' ORDER BY line"])
        self.assertEqual(r.returncode, 0, r.stderr)
        want = [v for row in json.loads(r.stdout)
                for v in (row["line"], row["hits"], row["self_time"],
                          row["time_in_calls"])]
        self.assertEqual(rows, want)

    def test_click_shows_source_with_heat(self):
        dom = self.dom("file://" + self.page + "#lines=__main__.work")
        view = dom[dom.index('<div id="lineview"'):]
        view = view[:view.index("</table>")]
        self.assertFalse('id="lineview" class="tablewrap" hidden' in dom,
                         "the line view stayed hidden")
        self.assertTrue("Lines of __main__.work" in dom, "no line view heading")
        # Every line of the function up to the last that ran, with its text.
        rows = re.findall(r'<tr( class="(?:hot|idle)")? data-line="(\d+)">(.*?)</tr>',
                          view)
        self.assertGreater(len(rows), 10)
        hot = [int(n) for cls, n, _ in rows if cls == ' class="hot"']
        self.assertEqual(hot, [self.sleep_line])
        hot_row = next(body for cls, n, body in rows if cls == ' class="hot"')
        text = self.source[self.sleep_line - 1]
        self.assertIn('<td class="code">%s</td>' % text.replace("&", "&amp;")
                      .replace("<", "&lt;").replace(">", "&gt;"), hot_row)
        self.assertIn('class="heatbar" style="width:100.0%"', hot_row)
        # A heat bar on every line that ran.
        ran = [body for cls, n, body in rows if cls != ' class="idle"']
        self.assertTrue(all('class="heatbar"' in body for body in ran))
        # The click in the table also did what it always did: the search.
        self.assertTrue('class="f hit"' in dom, "the click did not search")

    def test_hidden_until_asked(self):
        dom = self.dom("file://" + self.page)
        self.assertTrue('<div id="lineview" class="tablewrap" hidden="">' in dom,
                        "the line view is shown unasked")
        self.assertFalse('<span class="heatbar"' in dom, "heat bars unasked")

    def test_no_line_events(self):
        trace = os.path.join(self.tmp, "nolines.trace")
        r = run([PY, "-m", "tracestore", "record", "-o", trace, "--",
                 WORKLOAD, "5"])
        self.assertEqual(r.returncode, 0, r.stderr)
        page = os.path.join(self.tmp, "nolines.html")
        r = run([CLI, "export", trace, "--format", "html", "-o", page,
                 "--no-progress"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(page_data(page)["lines"], [])


if __name__ == "__main__":
    unittest.main()
