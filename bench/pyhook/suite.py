#!/usr/bin/env python3
"""The benchmark suite of the Python recorder (issue 16): twelve workloads
in the spirit of pyperformance's richards, deltablue, raytrace, json_dumps,
logging, nbody, chaos, go, hexiom, float, nqueens and unpack_sequence
(suite_workloads.py, written from scratch), under each tool, on every
interpreter, as slowdowns against untraced.

Each run is one whole process: the harness starts the tool, imports the
workloads, calls the workload once untimed (warm-up: specialisation, caches,
the trace's first pages), then times --inner calls of it (default 3)
in-process, stops the tool and reports the fastest. The tools are
interleaved: every round runs each workload under every tool, the tool
order rotated from round to round, and each (tool, workload) cell is the
minimum over the rounds (--rounds, default 5) divided by the untraced
minimum. Both clocks are taken: wall time (time.perf_counter, what the
tables show by default, as the issue's figures) and the process's CPU time
(time.process_time, every thread, user and system: --clock cpu), which on a
shared, overloaded machine leaves out the time the process waited for a
CPU. The tools:

    untraced     nothing
    floor        the eval-frame floor: tracestore's hook "_floor", an
                 eval-frame hook that only reads the clock twice per frame
    mon-floor    the monitoring floor (3.12+): a bare C sys.monitoring
                 PY_START/PY_RETURN callback that reads rdtsc and stores 16
                 bytes (monitoring_floor.c, module _monitoring_floor)
    mon-floor6   the same callback for the six events an exact recorder
                 needs (PY_START, PY_RESUME, PY_THROW, PY_RETURN, PY_YIELD,
                 PY_UNWIND): CPython's own dispatch of generator resumes
                 and yields is in it, which mon-floor leaves out
    eval-frame   tracestore recording every call, with each backend the
    monitoring   interpreter offers (tracestore._tracestore.hooks()); the
    setprofile   default hook (tracestore.default_hook()) is marked "*"
    stack        tracestore mode="stack" (a native trampoline per function,
                 no events)
    cProfile     cProfile.Profile() enabled for the whole run
    yappi        where it imports (Debian's python3-yappi, for
                 /usr/bin/python3.11): yappi.set_clock_type("wall") and
                 yappi.start() with its defaults (builtins=False,
                 profile_threads=True), as its documentation shows

Every run checks that the workload returned what it returns untraced (both
calls), and the first round checks what the tool saw: the trace holds call
events of the workload's entry function (read back with
_tracestore.load), the stack-mode trace names it, the floor callback saw
events, cProfile and yappi list the function.

Per interpreter it prints a table (rows = workloads, columns = tools, cells
= slowdown vs untraced, last row the geometric mean) and the recorders'
distance to their floors: monitoring / mon-floor, monitoring / mon-floor6 and eval-frame /
floor
(geomean over geomean). Usage:

    python3 bench/pyhook/suite.py                      # every interpreter
    python3 bench/pyhook/suite.py --minors 3.12,3.13 --rounds 3
    python3 bench/pyhook/suite.py --no-discover --python /usr/bin/python3.14
    python3 bench/pyhook/suite.py --quick --rounds 1   # the ctest smoke run
    ... --workloads richards,go --tools untraced,monitoring,mon-floor
    ... --json out.json --markdown                     # README-ready table
    ... --report out.json --clock cpu --markdown       # its tables again

The interpreters: pyenv's newest release of each supported minor version
(overhead.py's find_interpreters), /usr/bin/python3.11 when present (Debian's
3.11.2, the one python3-yappi is for; it loads the build's 3.11 extension),
and each --python EXE; all run with PYTHONPATH=<build>/python.

A measurement, not a test: the exit status is 0 whatever the figures, 2 on
bad usage, 1 when there is no interpreter to run, 3 when a run failed
(crashed, changed a result, or recorded nothing). Standard library only; runs under every supported CPython.
"""

import argparse
import gc
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PYTHON311 = "/usr/bin/python3.11"

# Every tool, in column order. Which of them an interpreter can run is
# probed (probe()).
ALL_TOOLS = ("untraced", "floor", "mon-floor", "mon-floor6", "eval-frame",
             "monitoring",
             "setprofile", "stack", "cProfile", "yappi")
RECORDERS = ("eval-frame", "monitoring", "setprofile")
# recorder -> its floor, for the "÷ floor" figures
FLOORS = (("monitoring", "mon-floor"), ("monitoring", "mon-floor6"),
          ("eval-frame", "floor"))
FLOOR_COLUMNS = {"mon-floor": "mon/floor", "mon-floor6": "mon/floor6",
                 "floor": "ef/floor"}
YAPPI_CONFIG = ("yappi.set_clock_type('wall'); yappi.start() with its "
                "defaults (builtins=False, profile_threads=True)")


# --------------------------------------------------------------------------
# in the measured process (--child TOOL WORKLOAD)

class Tool:
    """Starts and stops one tool in this process; check() says what it saw
    of the workload's entry function (raises when nothing)."""

    def __init__(self, key, tmpdir):
        self.key, self.tmpdir = key, tmpdir
        self.path = None
        self.handle = None

    def start(self):
        k = self.key
        if k in RECORDERS or k in ("floor", "stack"):
            import tracestore
            self.path = os.path.join(self.tmpdir, "%s-%d.trace"
                                     % (k, os.getpid()))
            if k == "stack":
                tracestore.enable(self.path, mode="stack", quiet=True)
            else:
                tracestore.enable(self.path, quiet=True,
                                  hook="_floor" if k == "floor" else k)
        elif k in ("mon-floor", "mon-floor6"):
            import _monitoring_floor
            _monitoring_floor.start(all_events=k == "mon-floor6")
        elif k == "cProfile":
            import cProfile
            self.handle = cProfile.Profile()
            self.handle.enable()
        elif k == "yappi":
            import yappi
            yappi.set_clock_type("wall")
            yappi.start()
        elif k != "untraced":
            raise ValueError("unknown tool %r" % k)

    def stop(self):
        k = self.key
        if self.path:
            import tracestore
            tracestore.disable()
        elif k in ("mon-floor", "mon-floor6"):
            import _monitoring_floor
            self.handle = _monitoring_floor.stop()  # events seen
        elif k == "cProfile":
            self.handle.disable()
        elif k == "yappi":
            import yappi
            yappi.stop()

    def check(self, entry, ncalls):
        """A one-line account of what the tool recorded of `entry` (a
        function name, called `ncalls` times); raises RuntimeError when it
        recorded nothing of it."""
        k = self.key
        if k == "untraced":
            return "-"
        if k in ("mon-floor", "mon-floor6"):
            if not self.handle:
                raise RuntimeError("the floor callback saw no event")
            return "%d events" % self.handle
        if k == "cProfile":
            import pstats
            stats = pstats.Stats(self.handle).stats
            calls = [v[1] for (_, _, name), v in stats.items() if name == entry]
            if not calls:
                raise RuntimeError("cProfile did not list %s" % entry)
            return "%d functions, %s called %d times" % (len(stats), entry,
                                                         sum(calls))
        if k == "yappi":
            import yappi
            stats = list(yappi.get_func_stats())
            calls = [s.ncall for s in stats if s.name == entry]
            if not calls:
                raise RuntimeError("yappi did not list %s" % entry)
            return "%d functions, %s called %d times" % (len(stats), entry,
                                                         sum(calls))
        # a trace
        if not os.path.exists(self.path):
            raise RuntimeError("no trace at %s" % self.path)
        if k == "floor":  # the floor hook reads the clock and records nothing
            return "trace written"
        from tracestore import _tracestore
        trace = _tracestore.load(self.path)
        ids = {f["id"] for f in trace["functions"] if f["name"] == entry}
        if not ids:
            raise RuntimeError("the trace names no function %s" % entry)
        if k == "stack":
            return "%d functions (stack mode records no calls)" % len(
                trace["functions"])
        calls = returns = entry_calls = 0
        for events in trace["events"]:
            for _, kind, fid, _ in events:
                if kind == "call":
                    calls += 1
                    if fid in ids:
                        entry_calls += 1
                elif kind in ("return", "unwind"):
                    returns += 1
        if entry_calls != ncalls:  # the warm-up and the timed calls
            raise RuntimeError("the trace holds %d call(s) of %s, expected %d"
                               % (entry_calls, entry, ncalls))
        return "%d calls, %d returns, %s called %d times" % (
            calls, returns, entry, entry_calls)

    def cleanup(self):
        if self.path:
            shutil.rmtree(self.path, ignore_errors=True)
            if self.key == "stack":  # what stack mode wrote for perf
                for name in ("/tmp/perf-%d.map", "/tmp/jit-%d.dump"):
                    try:
                        os.remove(name % os.getpid())
                    except OSError:
                        pass


def run_child(args):
    """One measured process: prints one JSON line."""
    tool = Tool(args.child[0], args.tmpdir or tempfile.gettempdir())
    name = args.child[1]
    wall, cpu, results = [], [], []
    tool.start()  # the whole process from here on, imports included
    try:
        import suite_workloads
        w = suite_workloads.WORKLOADS[name]
        size = w.quick if args.quick else w.size
        gc.collect()
        results.append(w.func(size))  # warm-up
        for _ in range(args.inner):
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            results.append(w.func(size))
            t1, c1 = time.perf_counter(), time.process_time()
            wall.append(t1 - t0)
            cpu.append(c1 - c0)
    finally:
        tool.stop()
    try:
        shown = [repr(r) for r in results]
        if len(set(shown)) != 1:
            raise RuntimeError("the calls returned different results: %s"
                               % ", ".join(shown))
        seen = (tool.check(w.func.__name__, len(results)) if args.verify
                else "")
    finally:
        tool.cleanup()
    print(json.dumps({"wall": wall, "cpu": cpu, "result": shown[0],
                      "seen": seen, "size": size,
                      "describe": w.describe(size)}))
    return 0


def run_probe():
    """What this interpreter offers: prints one JSON line."""
    info = {"python": "%d.%d.%d" % sys.version_info[:3],
            "minor": "%d.%d" % sys.version_info[:2],
            "executable": sys.executable, "tools": ["untraced"],
            "default_hook": None, "yappi": None}
    try:
        import tracestore
        from tracestore import _tracestore
    except ImportError as e:
        info["error"] = "cannot import tracestore: %s" % e
        print(json.dumps(info))
        return 0
    hooks = list(_tracestore.hooks())
    info["default_hook"] = tracestore.default_hook()
    info["hooks"] = hooks
    tmp = tempfile.mkdtemp(prefix="tracestore-suite-probe-")
    try:  # the floor hook is private: see whether this build has it
        tracestore.enable(os.path.join(tmp, "floor.trace"), hook="_floor",
                          quiet=True)
        tracestore.disable()
        info["tools"].append("floor")
    except (ValueError, RuntimeError):
        pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    try:
        import _monitoring_floor  # noqa: F401
        info["tools"] += ["mon-floor", "mon-floor6"]
    except ImportError:
        pass
    info["tools"] += [h for h in RECORDERS if h in hooks]
    info["tools"] += ["stack", "cProfile"]
    try:
        import yappi  # noqa: F401
        info["tools"].append("yappi")
        try:
            from importlib import metadata
            info["yappi"] = metadata.version("yappi")
        except Exception:  # no metadata: still usable
            info["yappi"] = "?"
    except ImportError:
        pass
    print(json.dumps(info))
    return 0


# --------------------------------------------------------------------------
# the driver

def _overhead():
    """overhead.py's interpreter discovery, shared rather than repeated."""
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    import overhead
    return overhead


def interpreters(args):
    """The executables to run, in order, without duplicates."""
    overhead = _overhead()
    exes = []
    if not args.no_discover:
        exes += list(overhead.find_interpreters().values())
        if os.access(SYSTEM_PYTHON311, os.X_OK):
            exes.append(SYSTEM_PYTHON311)
    exes += list(args.python or ())
    seen, out = set(), []
    for exe in exes:
        if exe not in seen:
            seen.add(exe)
            out.append(exe)
    return out


def child_env(args):
    env = dict(os.environ)
    env["PYTHONPATH"] = args.build_python
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the source tree
    for var in list(env):  # nothing may start a recording of its own
        if var.startswith("TRACESTORE"):
            del env[var]
    return env


def run_process(exe, argv, env):
    """(parsed JSON of the last stdout line, None) or (None, error text)."""
    proc = subprocess.run([exe, os.path.abspath(__file__)] + argv, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr.strip().splitlines() or ["(no output)"])[-3:]
        return None, "exit status %d: %s" % (proc.returncode, " | ".join(tail))
    try:
        return json.loads(lines[-1]), None
    except ValueError:
        return None, "unreadable output: %r" % lines[-1][:200]


def geomean(values):
    values = list(values)
    return math.exp(sum(math.log(v) for v in values) / len(values))


def measure(exe, info, args, names, env, tmpdir):
    """Runs every (tool, workload) of one interpreter; returns its report."""
    tools = [t for t in info["tools"] if t in args.tools]
    common = ["--tmpdir", tmpdir, "--inner", str(args.inner)]
    if args.quick:
        common.append("--quick")
    errors = []
    expected, sizes = {}, {}
    # warm-up pass, untimed: the page cache, and each workload's untraced
    # result, which every later run must reproduce
    for name in names:
        out, err = run_process(exe, ["--child", "untraced", name] + common,
                               env)
        if err:
            errors.append("%s untraced: %s" % (name, err))
            continue
        expected[name] = out["result"]
        sizes[name] = out["describe"]
    names = [n for n in names if n in expected]
    clocks = ("wall", "cpu")
    samples = {c: {n: {t: [] for t in tools} for n in names} for c in clocks}
    seen = {n: {} for n in names}
    for r in range(args.rounds):
        order = tools[r % len(tools):] + tools[:r % len(tools)]
        for name in names:
            for tool in order:
                argv = ["--child", tool, name] + common
                if r == 0:
                    argv.append("--verify")
                out, err = run_process(exe, argv, env)
                if err is None and out["result"] != expected[name]:
                    err = "returned %s, untraced %s" % (out["result"][:200],
                                                        expected[name][:200])
                if err:
                    errors.append("%s under %s: %s" % (name, tool, err))
                    continue
                for c in clocks:
                    samples[c][name][tool].extend(out[c])
                if r == 0:
                    seen[name][tool] = out["seen"]
        sys.stderr.write("  %s: round %d of %d done\n"
                         % (info["python"], r + 1, args.rounds))
        sys.stderr.flush()
    out = dict(info, tools=tools, errors=errors, shown=args.clock)
    for c in clocks:
        out[c] = summarise(samples[c], names, tools, sizes, seen)
    return out


def summarise(samples, names, tools, sizes, seen):
    """Ratios and geomeans of one clock's samples."""
    rows = {}
    for name in names:
        best = {t: min(v) for t, v in samples[name].items() if v}
        if "untraced" not in best:
            continue
        base = best["untraced"]
        rows[name] = {
            "describe": sizes[name],
            "untraced_ms": base * 1e3,
            "ratios": {t: v / base for t, v in best.items()},
            "samples_ms": {t: [s * 1e3 for s in v]
                           for t, v in samples[name].items()},
            "seen": seen[name],
        }
    geo = {}
    for tool in tools:
        vals = [r["ratios"][tool] for r in rows.values() if tool in r["ratios"]]
        if vals and len(vals) == len(rows):
            geo[tool] = geomean(vals)
    # keyed by the floor: monitoring has two
    over_floor = {fl: geo[rec] / geo[fl] for rec, fl in FLOORS
                  if rec in geo and fl in geo}
    return {"workloads": rows, "geomean": geo, "over_floor": over_floor}


def _fmt(x):
    return "%.2f" % x if x is not None else "-"


CLOCK_NAMES = {"wall": "wall time", "cpu": "CPU time"}


def format_report(full, args, clock):
    rep = dict(full, **full[clock])
    tools = rep["tools"]
    default = rep.get("default_hook")
    lines = ["CPython %s (%s): slowdown vs untraced in %s, min of %d round(s)"
             " x %d call(s)%s"
             % (rep["python"], rep["executable"], CLOCK_NAMES[clock],
                args.rounds, args.inner,
                ", --quick sizes" if args.quick else "")]
    head = ["workload", "untraced ms"]
    head += [t + ("*" if t == default else "") for t in tools[1:]]
    floors = [(rec, fl) for rec, fl in FLOORS if rec in tools and fl in tools]
    head += [FLOOR_COLUMNS[fl] for _, fl in floors]
    table = [head]
    for name, r in rep["workloads"].items():
        row = [name, "%.1f" % r["untraced_ms"]]
        row += [_fmt(r["ratios"].get(t)) for t in tools[1:]]
        row += [_fmt(r["ratios"][rec] / r["ratios"][fl])
                if rec in r["ratios"] and fl in r["ratios"] else "-"
                for rec, fl in floors]
        table.append(row)
    geo = rep["geomean"]
    row = ["geomean", ""] + [_fmt(geo.get(t)) for t in tools[1:]]
    row += [_fmt(rep["over_floor"].get(fl)) for _, fl in floors]
    table.append(row)
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    for i, row in enumerate(table):
        if i == len(table) - 1:
            lines.append("  " + "  ".join("-" * w for w in widths))
        lines.append("  " + "  ".join(
            c.ljust(w) if j == 0 else c.rjust(w)
            for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    if default:
        lines.append("  * = tracestore.default_hook() here (%s)" % default)
    for rec, fl in floors:
        lines.append("  %s = %s / %s: geomean / geomean %.2f"
                     % (FLOOR_COLUMNS[fl], rec, fl, rep["over_floor"][fl]))
    if "yappi" in tools:
        lines.append("  yappi %s: %s" % (rep.get("yappi"), YAPPI_CONFIG))
    lines.append("  sizes: " + ", ".join(
        "%s = %s" % (n, r["describe"]) for n, r in rep["workloads"].items()))
    if args.verbose and clock == args.clock:
        for name, r in rep["workloads"].items():
            for tool, what in r["seen"].items():
                lines.append("  seen: %s under %s: %s" % (name, tool, what))
    for e in rep["errors"]:
        lines.append("  FAILED: " + e)
    return "\n".join(lines)


MARKDOWN_COLUMNS = (
    ("eval-frame", "eval-frame recorder"),
    ("monitoring", "monitoring recorder"),
    ("setprofile", "setprofile recorder"),
    ("floor", "eval-frame floor"),
    ("mon-floor", "monitoring floor"),
    ("mon-floor6", "monitoring floor, 6 events"),
    ("stack", "stack mode"),
    ("cProfile", "cProfile"),
    ("yappi", "yappi"),
)


def markdown_table(full_reports, args, clock=None):
    clock = clock or args.clock
    reports = [dict(r, **r[clock]) for r in full_reports]
    present = [(k, label) for k, label in MARKDOWN_COLUMNS
               if any(k in rep["geomean"] for rep in reports)]
    head = ["Python"] + [label for _, label in present]
    head += ["monitoring ÷ floor", "monitoring ÷ floor, 6 events",
             "eval-frame ÷ floor"]
    lines = ["| " + " | ".join(head) + " |",
             "|---|" + "|".join(["---:"] * (len(head) - 1)) + "|"]
    for rep in reports:
        name = rep["python"]
        if rep["executable"] == SYSTEM_PYTHON311:
            name += " (Debian)"
        cells = [name]
        for k, _ in present:
            v = rep["geomean"].get(k)
            cell = _fmt(v) if v is not None else "—"
            if k == rep.get("default_hook") and v is not None:
                cell += "*"
            cells.append(cell)
        for _, fl in FLOORS:
            v = rep["over_floor"].get(fl)
            cells.append(_fmt(v) if v is not None else "—")
        lines.append("| " + " | ".join(cells) + " |")
    names = list(reports[0]["workloads"]) if reports else []
    lines.append("")
    lines.append(
        "Geometric mean of the slowdown vs untraced over %d workloads (%s; "
        "bench/pyhook/suite_workloads.py, written in the spirit of "
        "pyperformance's), %s, each (tool, workload) run as a whole process, "
        "the benchmark calls timed in-process after one warm-up call, tools "
        "interleaved, min of %d rounds x %d calls%s. * = the default hook. "
        "The floors: "
        "an eval-frame hook that only reads the clock (eval-frame floor) and "
        "a bare C sys.monitoring PY_START/PY_RETURN callback storing 16 "
        "bytes (monitoring floor), and the same callback for the six events "
        "an exact recorder needs, generator resumes and yields among them "
        "(monitoring floor, 6 events); ÷ floor = recorder geomean / floor "
        "geomean. yappi: %s."
        % (len(names), ", ".join(names), CLOCK_NAMES[clock], args.rounds,
           args.inner, ", --quick sizes" if args.quick else "", YAPPI_CONFIG))
    return "\n".join(lines)


def print_markdown(reports, args):
    print(markdown_table(reports, args))
    if args.both_clocks:
        print()
        print(markdown_table(reports, args,
                             "cpu" if args.clock == "wall" else "wall"))


def show_saved(args):
    """--report FILE: the tables of an earlier run's --json, again."""
    with open(args.report) as f:
        saved = json.load(f)
    for key in ("rounds", "inner", "quick"):
        setattr(args, key, saved[key])
    reports = saved["interpreters"]
    for rep in reports:
        print(format_report(rep, args, args.clock))
        if args.both_clocks:
            print(format_report(rep, args,
                                "cpu" if args.clock == "wall" else "wall"))
        print()
    if args.markdown and reports:
        print_markdown(reports, args)
    return 0


def run_all(args):
    names = args.workloads
    env = child_env(args)
    exes = interpreters(args)
    if args.minors:
        picked = []
        for exe in exes:
            out, err = run_process(exe, ["--probe"], env)
            if out and out["minor"] in args.minors:
                picked.append(exe)
        exes = picked
    if not exes:
        print("suite: no interpreter to run (see --python, --minors)",
              file=sys.stderr)
        return 1
    print("suite: %s; tools %s; workloads %s; load average %s"
          % (", ".join(exes), ",".join(args.tools), ",".join(names),
             "%.1f %.1f %.1f" % os.getloadavg()))
    sys.stdout.flush()
    reports, failed = [], []
    tmpdir = tempfile.mkdtemp(prefix="tracestore-suite-", dir=args.tmpdir)
    try:
        for exe in exes:
            info, err = run_process(exe, ["--probe"], env)
            if err or info.get("error"):
                print("%s: skipped (%s)" % (exe, err or info["error"]))
                failed.append(exe)
                continue
            t0 = time.time()
            rep = measure(exe, info, args, names, env, tmpdir)
            rep["seconds"] = time.time() - t0
            reports.append(rep)
            print(format_report(rep, args, args.clock))
            if args.both_clocks:
                other = "cpu" if args.clock == "wall" else "wall"
                print(format_report(rep, args, other))
            print("  (%.0f s; load average now %.1f %.1f %.1f)\n"
                  % ((rep["seconds"],) + os.getloadavg()))
            sys.stdout.flush()
            if rep["errors"]:
                failed.append(exe)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    if args.markdown and reports:
        print_markdown(reports, args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"command": sys.argv, "rounds": args.rounds,
                       "inner": args.inner, "clock": args.clock,
                       "quick": bool(args.quick), "workloads": names,
                       "tools": list(args.tools), "yappi_config": YAPPI_CONFIG,
                       "interpreters": reports,
                       "markdown": markdown_table(reports, args)
                       if reports else ""}, f, indent=1)
    if failed:
        print("suite: failures under %s" % ", ".join(failed), file=sys.stderr)
        return 3
    return 0


def main(argv=None):
    sys.dont_write_bytecode = True
    p = argparse.ArgumentParser(
        description="The tracestore benchmark suite: 12 workloads, every "
                    "tool, every interpreter.")
    p.add_argument("--rounds", type=int, default=5,
                   help="interleaved rounds; each cell is the minimum "
                        "(default 5)")
    p.add_argument("--inner", type=int, default=3,
                   help="timed calls per process after the warm-up; the "
                        "process reports the fastest (default 3)")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="what the tables show: wall time (default) or the "
                        "process's CPU time; --json keeps both")
    p.add_argument("--both-clocks", action="store_true",
                   help="print each interpreter's table for both clocks")
    p.add_argument("--quick", action="store_true",
                   help="tiny workload sizes (smoke test)")
    p.add_argument("--workloads", type=lambda s: [w for w in s.split(",") if w],
                   help="comma-separated subset of the workloads")
    p.add_argument("--tools", type=lambda s: [t for t in s.split(",") if t],
                   help="comma-separated subset of: " + ",".join(ALL_TOOLS)
                        + " (untraced is always run)")
    p.add_argument("--python", action="append",
                   help="also run this interpreter (repeatable)")
    p.add_argument("--no-discover", action="store_true",
                   help="run only the --python interpreters")
    p.add_argument("--minors", type=lambda s: [m for m in s.split(",") if m],
                   help="only interpreters of these versions, e.g. 3.12,3.13")
    p.add_argument("--json", help="write every sample and figure here")
    p.add_argument("--markdown", action="store_true",
                   help="also print the README table (rows = Pythons)")
    p.add_argument("--report", metavar="JSON",
                   help="print the tables of an earlier run's --json file "
                        "(with --clock, --both-clocks, --markdown) and exit")
    p.add_argument("--verbose", action="store_true",
                   help="also print what each tool recorded")
    p.add_argument("--tmpdir", help="where the traces go (default $TMPDIR)")
    p.add_argument("--build-python",
                   default=os.path.normpath(os.path.join(
                       HERE, os.pardir, os.pardir, "build", "python")),
                   help="the build's python/ directory (default %(default)s)")
    p.add_argument("--child", nargs=2, metavar=("TOOL", "WORKLOAD"),
                   help=argparse.SUPPRESS)
    p.add_argument("--verify", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.probe:
        return run_probe()
    if args.child:
        return run_child(args)
    if args.report:
        return show_saved(args)
    if args.rounds < 1 or args.inner < 1:
        p.error("--rounds and --inner must be at least 1")
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    import suite_workloads
    args.workloads = args.workloads or list(suite_workloads.WORKLOADS)
    unknown = [w for w in args.workloads if w not in suite_workloads.WORKLOADS]
    if unknown:
        p.error("unknown workload(s): %s (known: %s)"
                % (", ".join(unknown), ", ".join(suite_workloads.WORKLOADS)))
    args.tools = args.tools or list(ALL_TOOLS)
    unknown = [t for t in args.tools if t not in ALL_TOOLS]
    if unknown:
        p.error("unknown tool(s): %s (known: %s)"
                % (", ".join(unknown), ", ".join(ALL_TOOLS)))
    if "untraced" not in args.tools:
        args.tools.insert(0, "untraced")
    args.build_python = os.path.abspath(args.build_python)
    if args.python:
        missing = [e for e in args.python if not shutil.which(e)]
        if missing:
            p.error("no such interpreter: %s" % ", ".join(missing))
    return run_all(args)


if __name__ == "__main__":
    sys.exit(main())
