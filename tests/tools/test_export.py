"""`tracestore export` for chrome, speedscope, collapsed and html on a trace
whose calls are known (tests/tools/known_trace.cc): every file parses, the
chrome file has one complete event per call, the folded stacks add up to
the traced self time, and the HTML page opens in headless Chromium, draws
the flame graph (the screenshot is not one colour) and names the hottest
function in its DOM.

Run by ctest with TRACESTORE_CLI and KNOWN_TRACE set.
"""

import json
import os
import shutil
import stat
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

CLI = os.environ["TRACESTORE_CLI"]
KNOWN_TRACE = os.environ["KNOWN_TRACE"]
HOTTEST = "app.compute.Matrix.multiply"
CALLS = 4101
SELF_NS = 34_105_000
HOTTEST_SELF_NS = 26_400_000


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=kw.pop("text", True),
                          timeout=kw.pop("timeout", 120), **kw)


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def png_pixels(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit PNG."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0, header
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[color]
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        prev = line
        if bpp >= 3:
            rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        else:
            rows.append([(v, v, v) for v in line[::bpp]])
    return width, height, rows


class ExportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tsexport-")
        cls.trace = os.path.join(cls.tmp, "known.trace")
        r = run([KNOWN_TRACE, cls.trace])
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def export(self, fmt, *extra, name=None):
        out = os.path.join(self.tmp, name or "out." + fmt)
        r = run([CLI, "export", self.trace, "--format", fmt, "-o", out,
                 "--force"] + list(extra))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("wrote " + out, r.stdout)
        return out

    def query(self, sql):
        r = run([CLI, "query", self.trace, "--json", sql])
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_sql_agrees_with_the_generator(self):
        row = self.query("SELECT count(*) AS n, sum(self_dur) AS self "
                         "FROM calls")[0]
        self.assertEqual(row, {"n": CALLS, "self": SELF_NS})

    def test_chrome(self):
        with open(self.export("chrome", name="out.json")) as f:
            doc = json.load(f)
        self.assertEqual(doc["displayTimeUnit"], "ns")
        events = doc["traceEvents"]
        complete = [e for e in events if e["ph"] == "X"]
        self.assertEqual(len(complete), CALLS)  # one per call
        for e in complete:
            self.assertIsInstance(e["ts"], (int, float))
            self.assertGreaterEqual(e["dur"], 0)
            self.assertIn(e["tid"], (4242, 4243))
            self.assertEqual(e["pid"], events[0]["pid"])
        names = {e["args"]["name"] for e in events
                 if e["ph"] == "M" and e["name"] == "thread_name"}
        self.assertEqual(names, {"MainThread", "worker-1"})
        multiply = [e for e in complete if e["name"] == HOTTEST]
        self.assertEqual(len(multiply), 800)
        self.assertEqual(sorted({round(e["dur"], 3) for e in multiply}),
                         [20.0, 40.0])
        # Per thread the calls nest: a child lies within its parent.
        by_sql = self.query("SELECT count(*) AS n FROM calls WHERE "
                            "thread_id = 1")[0]["n"]
        self.assertEqual(sum(e["tid"] == 4243 for e in complete), by_sql)
        self.assertEqual(sum(e["ph"] == "i" for e in events), 1)
        self.assertEqual(sum(e["ph"] in ("b", "e") for e in events), 2)

    def test_speedscope(self):
        with open(self.export("speedscope", name="out.speedscope.json")) as f:
            doc = json.load(f)
        self.assertEqual(doc["$schema"],
                         "https://www.speedscope.app/file-format-schema.json")
        frames = doc["shared"]["frames"]
        self.assertIn(HOTTEST, [fr["name"] for fr in frames])
        self.assertEqual(len(doc["profiles"]), 2)
        opened = 0
        for p in doc["profiles"]:
            self.assertEqual(p["type"], "evented")
            self.assertEqual(p["unit"], "nanoseconds")
            stack, last = [], p["startValue"]
            for e in p["events"]:
                self.assertGreaterEqual(e["at"], last)
                last = e["at"]
                self.assertLess(e["frame"], len(frames))
                if e["type"] == "O":
                    stack.append(e["frame"])
                    opened += 1
                else:
                    self.assertEqual(e["type"], "C")
                    self.assertEqual(stack.pop(), e["frame"])
            self.assertEqual(stack, [])
            self.assertLessEqual(last, p["endValue"])
        self.assertEqual(opened, CALLS)

    def test_collapsed_sums_to_the_self_time(self):
        path = self.export("collapsed", name="out.folded")
        total, leaf = 0, {}
        with open(path) as f:
            text = f.read()
        for line in text.splitlines():
            stack, value = line.rsplit(" ", 1)
            total += int(value)
            frame = stack.split(";")[-1]
            leaf[frame] = leaf.get(frame, 0) + int(value)
        self.assertEqual(total, SELF_NS)
        self.assertEqual(leaf[HOTTEST], HOTTEST_SELF_NS)
        self.assertIn("app.main;app.compute.Matrix.multiply;"
                      "app.compute.Matrix.__init__ 1200000\n", text)
        self.assertIn("\napp.compute.Matrix.multiply;"
                      "app.compute.Matrix.__init__ 400000\n", text)
        # -o - writes the same to stdout.
        r = run([CLI, "export", self.trace, "--format", "collapsed", "-o", "-"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, text)
        r = run([CLI, "export", self.trace, "--format", "collapsed", "--threads",
                 "-o", "-"])
        self.assertTrue(all(l.startswith(("thread MainThread;",
                                          "thread worker-1;"))
                            for l in r.stdout.splitlines()))

    def test_html_is_self_contained(self):
        with open(self.export("html")) as f:
            page = f.read()
        self.assertTrue(page.startswith("<!DOCTYPE html>"))
        for needle in ("http://", "https://", " src=", "@import", "url("):
            self.assertNotIn(needle, page)
        start = page.index('type="application/json">') + len('type="application/json">')
        data = json.loads(page[start:page.index("</script>", start)])
        self.assertEqual(data["calls"], CALLS)
        self.assertEqual(data["names"][data["functions"][0][0]], HOTTEST)

    def test_html_renders_in_chromium(self):
        browser = chromium()
        if browser is None:
            self.skipTest("chromium is not installed (apt-get install chromium; "
                          "tools/lib/setup.sh lists it)")
        page = self.export("html")
        url = "file://" + page
        profile = tempfile.mkdtemp(prefix="tschromium-", dir=self.tmp)
        base = [browser, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile,
                "--host-resolver-rules=MAP * ~NOTFOUND",
                "--virtual-time-budget=3000", "--hide-scrollbars"]
        r = run(base + ["--dump-dom", url], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        dom = r.stdout
        # The script ran: the table and the flame graph are in the DOM.
        self.assertIn('<td class="l fn" title="%s">%s</td>' % (HOTTEST, HOTTEST),
                      dom)
        self.assertIn('class="f"', dom)
        self.assertIn(">%s</div>" % HOTTEST, dom)  # a frame wide enough to name
        self.assertIn("4,101 calls", dom)

        # A search from the URL highlights the matching frames.
        r = run(base + ["--dump-dom", url + "#q=Matrix%5C.multiply$"], timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertIn('class="f hit"', r.stdout)
        self.assertIn("matched 2 frames", r.stdout)  # in each thread
        self.assertIn('class="f dim"', r.stdout)

        shot = os.path.join(self.tmp, "shot.png")
        r = run(base + ["--screenshot=" + shot, "--window-size=900,600", url],
                timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        width, height, rows = png_pixels(shot)
        self.assertEqual((width, height), (900, 600))
        counts = {}
        for row in rows:
            for px in row:
                counts[px] = counts.get(px, 0) + 1
        self.assertGreater(len(counts), 20, "the screenshot is (nearly) blank")
        self.assertLess(max(counts.values()), 0.95 * width * height)
        # Flame colours: warm frames (Python) are drawn.
        warm = sum(n for (r_, g, b), n in counts.items()
                   if r_ > 180 and r_ - b > 60)
        self.assertGreater(warm, 2000, "no flame graph frames in the screenshot")

    def test_progress_bar(self):
        out = os.path.join(self.tmp, "p.json")
        r = run([CLI, "export", self.trace, "--format", "chrome", "-o", out,
                 "--force", "--progress"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("exporting chrome [", r.stderr)
        self.assertIn("100%", r.stderr)
        r = run([CLI, "export", self.trace, "--format", "chrome", "-o", out,
                 "--force"])
        self.assertEqual(r.stderr, "")  # quick, and stderr is not a terminal

    def test_errors(self):
        out = self.export("chrome", name="exists.json")
        r = run([CLI, "export", self.trace, "--format", "chrome", "-o", out])
        self.assertEqual(r.returncode, 2)
        self.assertIn("exists", r.stderr)
        r = run([CLI, "export", self.trace, "--format", "svg", "-o", out + "2"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown format", r.stderr)
        r = run([CLI, "export", self.tmp + "/nope", "--format", "html", "-o",
                 out + "3"])
        self.assertEqual(r.returncode, 2)
        self.assertFalse(os.path.exists(out + "3"))
        self.assertEqual([f for f in os.listdir(self.tmp) if ".tmp-" in f], [])

    def test_writes_into_a_fifo_in_place(self):
        # A device or named pipe is written, never replaced by a rename.
        fifo = os.path.join(self.tmp, "pipe")
        os.mkfifo(fifo)
        reader = subprocess.Popen(["cat", fifo], stdout=subprocess.PIPE)
        r = run([CLI, "export", self.trace, "--format", "collapsed", "-o", fifo])
        data = reader.communicate(timeout=30)[0].decode()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("wrote " + fifo, r.stderr)
        self.assertEqual(sum(int(l.rsplit(" ", 1)[1]) for l in data.splitlines()),
                         SELF_NS)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        r = run([CLI, "export", self.trace, "--format", "sqlite", "-o", fifo,
                 "--force"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a regular file", r.stderr)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        r = run([CLI, "export", self.trace, "--format", "html", "-o", self.tmp,
                 "--force"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("is a directory", r.stderr)

    def test_live_trace(self):
        trace = os.path.join(self.tmp, "live.trace")
        writer = subprocess.Popen([KNOWN_TRACE, trace, "--live", "3"])
        try:
            deadline = time.time() + 20
            while not os.path.exists(os.path.join(trace, "threads.store")):
                self.assertLess(time.time(), deadline)
                time.sleep(0.05)
            time.sleep(0.5)
            out = os.path.join(self.tmp, "live.json")
            r = run([CLI, "export", trace, "--format", "chrome", "-o", out])
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out) as f:
                doc = json.load(f)
            self.assertGreater(sum(e["ph"] == "X" for e in doc["traceEvents"]), 10)
        finally:
            self.assertEqual(writer.wait(timeout=30), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
