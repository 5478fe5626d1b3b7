"""`tracestore export --format perfetto` and `--min-dur` (issue 19), on the
trace of known calls (tests/tools/known_trace.cc):

- The Perfetto file decodes with `protoc --decode` against the schema in
  the repo (tracestore/src/export/perfetto_trace.proto): one process
  track, one track per thread, a begin and an end per call (their count
  is the number of calls), every name interned once per thread before its
  first use, marks; and it is several times smaller than the chrome file.
- `--min-dur` on every format leaves out the short calls and keeps the
  totals: the calls left out are counted, the self times still add up to
  the traced time, the kept calls keep their durations.

Run by ctest with TRACESTORE_CLI and KNOWN_TRACE set; skipped where protoc
is missing (tools/lib/setup.sh installs protobuf-compiler).
"""

import collections
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

CLI = os.environ["TRACESTORE_CLI"]
KNOWN_TRACE = os.environ["KNOWN_TRACE"]
SCHEMA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                          "..", "..", "tracestore", "src", "export")
PROTOC = shutil.which("protoc")
CALLS = 4101
SELF_NS = 34_105_000
# Calls shorter than 2.5 us in the known trace: 1000 builtins.len (500 ns)
# and 800 app.compute.Matrix.__init__ (2 us).
SHORT_CALLS = 1800
SHORT_NS = 1000 * 500 + 800 * 2000


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=kw.pop("timeout", 120), **kw)


def parse_text(text):
    """protoc's text format -> nested dicts (repeated fields as lists)."""
    root = collections.defaultdict(list)
    stack = [root]
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.endswith("{"):
            child = collections.defaultdict(list)
            stack[-1][line[:-1].strip()].append(child)
            stack.append(child)
        elif line == "}":
            stack.pop()
        else:
            key, value = line.split(":", 1)
            value = value.strip()
            if value.startswith('"'):
                value = json.loads(value)
            elif re.match(r"^-?\d+$", value):
                value = int(value)
            stack[-1][key].append(value)
    return root


def one(d, key, default=None):
    v = d.get(key)
    return v[0] if v else default


class Perfetto(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tsperfetto-")
        cls.trace = os.path.join(cls.tmp, "known.trace")
        r = run([KNOWN_TRACE, cls.trace])
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def export(self, fmt, out, *extra):
        r = run([CLI, "export", self.trace, "--format", fmt, "-o", out,
                 "--force"] + list(extra), universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def decode(self, path):
        with open(path, "rb") as f:
            r = run([PROTOC, "--decode=perfetto.protos.Trace", "-I",
                     SCHEMA_DIR, "perfetto_trace.proto"], stdin=f)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stderr, b"")
        return parse_text(r.stdout.decode())["packet"]

    def slices(self, packets):
        """Per track uuid: the (begin ts, end ts, name) of each slice, from
        the begin/end pairs in order, names resolved through the interned
        names of the packet's sequence."""
        names = collections.defaultdict(dict)   # sequence -> iid -> name
        defaults = {}                           # sequence -> track uuid
        open_ = collections.defaultdict(list)
        done = collections.defaultdict(list)
        for p in packets:
            seq = one(p, "trusted_packet_sequence_id")
            self.assertIsNotNone(seq)
            if one(p, "sequence_flags", 0) & 1:
                names[seq].clear()
            for d in p.get("trace_packet_defaults", []):
                defaults[seq] = one(one(d, "track_event_defaults"),
                                    "track_uuid")
            for interned in p.get("interned_data", []):
                for n in interned["event_names"]:
                    self.assertNotIn(one(n, "iid"), names[seq])
                    names[seq][one(n, "iid")] = one(n, "name")
            for e in p.get("track_event", []):
                track = one(e, "track_uuid", defaults.get(seq))
                kind = one(e, "type")
                ts = one(p, "timestamp")
                if kind == "TYPE_SLICE_BEGIN":
                    name = one(e, "name")
                    if name is None:
                        name = names[seq][one(e, "name_iid")]
                    open_[track].append((ts, name))
                elif kind == "TYPE_SLICE_END":
                    start, name = open_[track].pop()
                    self.assertGreaterEqual(ts, start)
                    done[track].append((start, ts, name))
        self.assertFalse(any(open_.values()))
        return done, names

    @unittest.skipIf(PROTOC is None, "protoc not installed")
    def test_decodes_with_a_slice_per_call(self):
        out = os.path.join(self.tmp, "known.pftrace")
        summary = self.export("perfetto", out)
        self.assertIn("(perfetto: %d calls, " % CALLS, summary)
        packets = self.decode(out)
        tracks = {}
        for p in packets:
            for d in p.get("track_descriptor", []):
                tracks[one(d, "uuid")] = d
        process = [d for d in tracks.values() if "process" in d]
        threads = {one(one(d, "thread"), "thread_name"): one(d, "uuid")
                   for d in tracks.values() if "thread" in d}
        self.assertEqual(len(process), 1)
        self.assertEqual(one(one(process[0], "process"), "process_name"),
                         "known_trace")
        self.assertEqual(set(threads), {"MainThread", "worker-1"})
        for d in tracks.values():
            if "thread" in d:
                self.assertEqual(one(d, "parent_uuid"), one(process[0], "uuid"))
        done, names = self.slices(packets)
        calls = {t: done[uuid] for t, uuid in threads.items()}
        self.assertEqual(sum(len(v) for v in calls.values()), CALLS)
        self.assertEqual(len(calls["worker-1"]), 500)
        # Each name interned once per thread.
        self.assertEqual(sorted(len(v) for v in names.values() if v), [3, 7])
        # Durations are the calls' (ns).
        multiply = [e - s for s, e, n in calls["MainThread"]
                    if n == "app.compute.Matrix.multiply"]
        self.assertEqual(len(multiply), 600)
        self.assertEqual(set(multiply), {40_000})
        main = [e - s for s, e, n in calls["MainThread"] if n == "app.main"]
        self.assertEqual(len(main), 1)
        # Marks: the range on its own track, the point on the thread's.
        ranges = [n for t, v in done.items() if t not in threads.values()
                  for _, _, n in v]
        self.assertEqual(ranges, ["load"])
        instants = [one(e, "name") for p in packets
                    for e in p.get("track_event", [])
                    if one(e, "type") == "TYPE_INSTANT"]
        self.assertEqual(instants, ["checkpoint"])
        # Several times smaller than the chrome export.
        chrome = os.path.join(self.tmp, "known.json")
        self.export("chrome", chrome)
        self.assertLess(os.path.getsize(out) * 3, os.path.getsize(chrome))

    def test_min_dur_leaves_short_calls_out_with_honest_totals(self):
        note = ("%d calls (and 0 resumes) shorter than 2.5us left out: "
                "%.3f ms, in their callers' self time" % (SHORT_CALLS,
                                                          SHORT_NS / 1e6))
        kept = CALLS - SHORT_CALLS
        # chrome: the kept calls, with their full durations.
        out = os.path.join(self.tmp, "min.json")
        summary = self.export("chrome", out, "--min-dur", "2.5us")
        self.assertIn("(chrome: %d calls, " % kept, summary)
        self.assertIn(note, summary)
        with open(out) as f:
            events = [e for e in json.load(f)["traceEvents"]
                      if e["ph"] == "X"]
        self.assertEqual(len(events), kept)
        names = collections.Counter(e["name"] for e in events)
        self.assertNotIn("builtins.len", names)
        self.assertNotIn("app.compute.Matrix.__init__", names)
        self.assertEqual(names["app.compute.Matrix.multiply"], 800)
        self.assertEqual({e["dur"] for e in events
                          if e["name"] == "app.io.parse_line"}, {3.0})
        # collapsed: self times still add up to the traced time; the time
        # of the calls left out is their callers'.
        out = os.path.join(self.tmp, "min.folded")
        self.assertIn(note, self.export("collapsed", out, "--min-dur",
                                        "2500ns"))
        folded = {}
        with open(out) as f:
            for line in f:
                stack, value = line.rsplit(" ", 1)
                folded[stack] = int(value)
        self.assertEqual(sum(folded.values()), SELF_NS)
        self.assertFalse([s for s in folded if "builtins.len" in s])
        parse = [v for s, v in folded.items()
                 if s.endswith("app.io.parse_line")]
        self.assertEqual(sum(parse), 1000 * 3000)
        # speedscope, html: the calls kept.
        out = os.path.join(self.tmp, "min.speedscope.json")
        self.assertIn("(speedscope: %d calls, " % kept,
                      self.export("speedscope", out, "--min-dur", "2.5us"))
        with open(out) as f:
            doc = json.load(f)
        opens = sum(1 for p in doc["profiles"] for e in p["events"]
                    if e["type"] == "O")
        self.assertEqual(opens, kept)
        out = os.path.join(self.tmp, "min.html")
        self.assertIn("(html: %d calls, " % kept,
                      self.export("html", out, "--min-dur", "2.5us"))
        if PROTOC is not None:
            out = os.path.join(self.tmp, "min.pftrace")
            self.assertIn(note, self.export("perfetto", out, "--min-dur",
                                            "2.5us"))
            done, _ = self.slices(self.decode(out))
            self.assertEqual(sum(len(v) for v in done.values()), kept + 1)
        # sqlite: the calls table holds the kept calls, self_dur adds up.
        out = os.path.join(self.tmp, "min.db")
        self.assertIn(note, self.export("sqlite", out, "--min-dur", "2.5us"))
        db = sqlite3.connect(out)
        n, self_sum = db.execute(
            "SELECT count(*), sum(self_dur) FROM calls").fetchone()
        self.assertEqual((n, self_sum), (kept, SELF_NS))
        db.close()

    def test_bad_min_dur_is_refused(self):
        for bad in ("10", "fast", "-1ms", "1e3us", "ms"):
            with self.subTest(bad):
                r = run([CLI, "export", self.trace, "--format", "chrome",
                         "-o", os.path.join(self.tmp, "x.json"),
                         "--min-dur", bad], universal_newlines=True)
                self.assertEqual(r.returncode, 2)
                self.assertIn("is not a duration", r.stderr)
                self.assertFalse(os.path.exists(
                    os.path.join(self.tmp, "x.json")))


if __name__ == "__main__":
    unittest.main()
