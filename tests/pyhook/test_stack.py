"""Stack-sampling mode: one native trampoline frame per Python function.

A program recorded with --mode stack calls every traced function through
its own trampoline slot. These tests unwind real native stacks (libgcc's
DWARF unwinder in-process; perf from outside) and map the return addresses
through the slot ranges the trace recorded.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import unittest
import sys

from support import PY, TempDirTest, Trace, record, run

# c() takes a native backtrace (and a mark) from inside b() from a().
ABC = """\
import json, sys, threading
import tracestore
from tracestore import _tracestore

stacks = []

def c():
    stacks.append(_tracestore._native_stack())
    tracestore.mark("in c")

def b():
    c()

def a():
    b()

a()
json.dump(stacks, open(sys.argv[1], "w"))
"""

# The same from ten threads at once: each runs the module "work" (so that
# its outermost Python frame is a <module>); -i work leaves threading's own
# frames without trampolines.
THREADS = """\
import json, sys, threading

WORK = '''
import tracestore
from tracestore import _tracestore

def c():
    barrier.wait()          # all ten threads are inside c() at once
    stacks.append(_tracestore._native_stack())
    tracestore.mark("in c")

def b():
    c()

def a():
    b()

a()
'''
code = compile(WORK, "work.py", "exec")
stacks = []
barrier = threading.Barrier(10)

def run():
    exec(code, {"__name__": "work", "stacks": stacks, "barrier": barrier})

threads = [threading.Thread(target=run) for _ in range(10)]
for t in threads:
    t.start()
for t in threads:
    t.join()
json.dump(stacks, open(sys.argv[1], "w"))
"""

# CPU-bound work for perf to sample.
CPU = """\
def c(n):
    s = 0
    for i in range(n):
        s += i
    return s

def b(n):
    return c(n)

def a(n):
    return b(n)

for _ in range(200):
    a(20000)
"""


def slot_names(trace, pcs):
    """The functions whose slots hold these return addresses, in order."""
    slots = [(f["slot_begin"], f["slot_end"], f["name"])
             for f in trace.data["functions"] if f["slot_begin"]]
    names = []
    for pc in pcs:
        names += [name for begin, end, name in slots if begin <= pc < end]
    return names


def remove_perf_files(pid):
    for pattern in ("/tmp/perf-%d.map", "/tmp/jit-%d.dump",
                    "/tmp/jitted-%d-*.so"):
        for p in glob.glob(pattern % pid):
            os.remove(p)


class StackMode(TempDirTest):
    def record_stack(self, source, *options):
        script = self.write("prog.py", source)
        out = self.path("stacks.json")
        trace_path = self.path("s.trace")
        r = record(["--mode", "stack", "-q", "-o", trace_path] + list(options),
                   [script, out], cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stderr)
        trace = Trace(trace_path)
        self.addCleanup(remove_perf_files, trace.data["pid"])
        with open(out) as f:
            return trace, json.load(f)

    def test_native_backtrace_maps_to_the_python_stack(self):
        trace, stacks = self.record_stack(ABC)
        self.assertEqual(len(stacks), 1)
        self.assertEqual(slot_names(trace, stacks[0]),
                         ["c", "b", "a", "<module>"])
        # No per-call events, the mark kept, the mode in the header.
        self.assertEqual(sum(len(e) for e in trace.events), 0)
        self.assertEqual([m["name"] for m in trace.data["marks"]], ["in c"])
        self.assertEqual(trace.data["properties"]["mode"], "stack")
        # Every traced function has its own slot; no two overlap.
        slots = sorted((f["slot_begin"], f["slot_end"])
                       for f in trace.data["functions"])
        self.assertTrue(all(b > 0 and e - b == 16 for b, e in slots), slots)
        self.assertTrue(all(slots[i][1] <= slots[i + 1][0]
                            for i in range(len(slots) - 1)))

    def test_ten_threads(self):
        trace, stacks = self.record_stack(THREADS, "-i", "work")
        self.assertEqual(len(stacks), 10)
        for pcs in stacks:
            self.assertEqual(slot_names(trace, pcs),
                             ["c", "b", "a", "<module>"])
        # Filtered-out code (threading, __main__) got no trampoline.
        self.assertEqual({f["module"] for f in trace.data["functions"]},
                         {"work"})
        marks = trace.data["marks"]
        self.assertEqual(len(marks), 10)
        self.assertEqual(len({m["thread"] for m in marks}), 10)

    def test_perf_map_and_jitdump_name_the_slots(self):
        trace, _ = self.record_stack(ABC)
        pid = trace.data["pid"]
        with open("/tmp/perf-%d.map" % pid) as f:
            lines = [line.split(" ", 2) for line in f.read().splitlines()]
        mapped = {int(start, 16): (int(size, 16), name)
                  for start, size, name in lines}
        script = self.path("prog.py")
        for fn in trace.data["functions"]:
            self.assertEqual(mapped.get(fn["slot_begin"]),
                             (16, "py::%s:%s" % (fn["name"], fn["file"])))
        self.assertIn("py::c:" + script, {n for _, n in mapped.values()})
        with open("/tmp/jit-%d.dump" % pid, "rb") as f:
            header = f.read(40)
        self.assertEqual(header[:4], b"DTiJ")  # 0x4A695444, little-endian

    def test_no_perf_files(self):
        script = self.write("p.py", "def f():\n    return 1\nf()\n")
        r = record(["--mode", "stack", "--no-perf-files", "-o",
                    self.path("n.trace")], [script])
        self.assertEqual(r.returncode, 0, r.stderr)
        trace = Trace(self.path("n.trace"))
        self.addCleanup(remove_perf_files, trace.data["pid"])
        self.assertIn("f", {f["name"] for f in trace.data["functions"]})
        self.assertFalse(os.path.exists("/tmp/perf-%d.map" % trace.data["pid"]))
        self.assertFalse(os.path.exists("/tmp/jit-%d.dump" % trace.data["pid"]))

    def test_mark_stack_and_etw_function_ranges(self):
        # PythonFunction carries each slot's BeginAddress/EndAddress, and
        # _mark_stack still raises PythonStackSample.
        script = self.write("etw.py", """\
import json, sys
import tracestore
from tracestore import _tracestore

def f():
    tracestore.mark_stack("sample here")

tracestore.enable(sys.argv[1], mode="stack", etw="capture", include=["__main__"])
f()
tracestore.disable()
json.dump(_tracestore._etw_events(), open(sys.argv[2], "w"))
""")
        r = run([PY, script, self.path("e.trace"), self.path("e.json")])
        self.assertEqual(r.returncode, 0, r.stderr)
        trace = Trace(self.path("e.trace"))
        self.addCleanup(remove_perf_files, trace.data["pid"])
        with open(self.path("e.json")) as f:
            events = json.load(f)
        described = {e["fields"]["FunctionID"]: e["fields"] for e in events
                     if e["name"] == "PythonFunction"}
        self.assertEqual(set(described), set(trace.functions))
        for fid, fn in trace.functions.items():
            self.assertEqual(described[fid]["BeginAddress"], fn["slot_begin"])
            self.assertEqual(described[fid]["EndAddress"], fn["slot_end"])
        self.assertEqual({fn["name"] for fn in trace.functions.values()}, {"f"})
        names = [e["name"] for e in events]
        self.assertIn("PythonStackSample", names)
        self.assertNotIn("PythonFunctionPush", names)
        self.assertEqual([m["name"] for m in trace.data["marks"]], ["sample here"])

    def test_cover_stale_mappings_maps_only_free_space(self):
        # `record` hides the pre-exec mappings from perf by mapping the free
        # parts of them for an instant; never over a live mapping.
        import mmap
        from tracestore import _tracestore
        with open("/proc/self/maps") as f:
            live = f.readline().split()[0]      # mapped: nothing to cover
        self.assertEqual(_tracestore._cover_stale_mappings(live), 0)
        region = mmap.mmap(-1, 4 * mmap.PAGESIZE)
        import ctypes
        start = ctypes.addressof(ctypes.c_char.from_buffer(region))
        region.close()                          # now a free, known range
        text = "%x-%x" % (start, start + 4 * mmap.PAGESIZE)
        self.assertEqual(_tracestore._cover_stale_mappings(text),
                         4 * mmap.PAGESIZE)
        self.assertEqual(_tracestore._cover_stale_mappings("junk"), 0)

    def test_instrumented_options_are_refused(self):
        script = self.write("p.py", "print(1)\n")
        for extra in (["--lines"], ["--c-calls"], ["--hook", "eval-frame"]):
            with self.subTest(extra=extra):
                r = record(["--mode", "stack", "-o", self.path("x.trace")]
                           + extra, [script])
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("stack mode records no calls", r.stderr)
                self.assertFalse(os.path.exists(self.path("x.trace")))
        import tracestore
        with self.assertRaises(ValueError):
            tracestore.enable(self.path("y.trace"), mode="stack", lines=True)
        with self.assertRaises(ValueError):
            tracestore.enable(self.path("y.trace"), mode="sampled")
        self.assertFalse(tracestore.is_active())

    def test_etwtrace_defaults_to_stack_mode(self):
        script = self.write("p.py", "def f():\n    return 1\nprint(f())\n")
        trace_path = self.path("etw.trace")
        r = run([PY, "-m", "etwtrace", "--", script],
                env=dict(os.environ, ETWTRACE_OUTPUT=trace_path))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "1\n")
        trace = Trace(trace_path)
        self.addCleanup(remove_perf_files, trace.data["pid"])
        self.assertEqual(trace.data["properties"]["mode"], "stack")
        self.assertIn("f", {f["name"] for f in trace.data["functions"]})
        r = run([PY, "-m", "etwtrace", "--instrumented", "--", script],
                env=dict(os.environ, ETWTRACE_OUTPUT=self.path("i.trace")))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(Trace(self.path("i.trace")).data["properties"]["mode"],
                         "instrumented")


def perf_usable():
    """None if `perf record -e cpu-clock` works here, else why not."""
    perf = shutil.which("perf")
    if perf is None:
        return "perf is not installed"
    r = subprocess.run([perf, "record", "-q", "-e", "cpu-clock", "-o",
                        os.devnull, "--", "true"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, universal_newlines=True)
    if r.returncode != 0:
        return "perf record cannot run here: %s" % r.stderr.strip()[:200]
    jit = getattr(sys, "_jit", None)
    if jit is not None and jit.is_enabled():
        # Stack mode still runs each function through its trampoline (the
        # in-process backtrace tests check that under the JIT too), but the
        # JIT's machine code has no unwind tables for perf to step through.
        return "PYTHON_JIT is on: perf cannot unwind through the JIT's code"
    return None


class PerfSeesPythonFrames(TempDirTest):
    """perf record -g of a CPU-bound script names c, b, a and <module>,
    nested, from the jitdump (DWARF unwinding: these interpreters keep no
    frame pointers)."""

    def test_perf_script_nesting(self):
        why = perf_usable()
        if why:
            self.skipTest(why)
        script = self.write("cpu.py", CPU)
        data, injected = self.path("perf.data"), self.path("perf.jit.data")
        trace_path = self.path("cpu.trace")
        r = run(["perf", "record", "-q", "-F", "499", "-k", "1", "-e",
                 "cpu-clock", "--call-graph", "dwarf", "-o", data, "--",
                 PY, "-m", "tracestore", "record", "--mode", "stack", "-q",
                 "-o", trace_path, "--", script])
        self.assertEqual(r.returncode, 0, r.stderr)
        pid = Trace(trace_path).data["pid"]
        self.addCleanup(remove_perf_files, pid)
        r = run(["perf", "inject", "--jit", "-i", data, "-o", injected])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run(["perf", "script", "-i", injected])
        self.assertEqual(r.returncode, 0, r.stderr)
        # Per sample, the Python frames from leaf to root.
        chains = []
        for sample in r.stdout.split("\n\n"):
            names = re.findall(r"\spy::([^:\s]+):(\S+)", sample)
            if names:
                chains.append([n for n, f in names if f.startswith(script)])
        in_c = [ch for ch in chains if ch and ch[0] == "c"]
        self.assertGreaterEqual(len(in_c), 10, r.stdout[-3000:])
        exact = [ch for ch in in_c if ch == ["c", "b", "a", "<module>"]]
        # A sample that lands in a trampoline's own four instructions may
        # unwind short; all others must show the whole nesting.
        self.assertGreaterEqual(len(exact), 0.9 * len(in_c),
                                "%s of %s: %s" % (len(exact), len(in_c),
                                                  in_c[:5]))


if __name__ == "__main__":
    unittest.main()
