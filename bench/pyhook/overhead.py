#!/usr/bin/env python3
"""The overhead benchmark of the Python recorder (issue 4).

Times each workload of workloads.py (fib(25), a richards-style scheduler and
an nbody-style simulation) in one process, in these modes:

    untraced          no hook at all
    floor             hook="_floor": an eval-frame hook that only reads the
                      clock twice per frame (the design's floor)
    mon-floor         3.12+: a bare sys.monitoring PY_START/PY_RETURN callback
                      that reads the clock and stores 16 bytes
                      (monitoring_floor.c): the monitoring backend's floor
    eval-frame        everything recorded, per backend ...
    monitoring        ... (3.12+) ...
    setprofile        ... ; "traced-all" is tracestore.default_hook()
    excl:<hook>       exclude=["workloads"]: the hot module filtered out, with
                      tracestore.default_hook() and eval-frame
    stack             mode="stack": no events, a native trampoline per
                      function (issue 8)
    cpython-perf      CPython's own perf trampoline (3.12+):
                      sys.activate_stack_trampoline("perf"), as -X perf
    cProfile          cProfile.Profile enabled around the call

and prints, per workload, each mode's time as a ratio to untraced, plus
traced-all/floor, then PASS/FAIL for the design's targets:

    (a) traced-all <= 1.15 x floor, every workload
    (b) fib traced-all <= 1.8 x untraced on 3.11
    (c) excluded (default hook) <= 1.10 x untraced on 3.12+
    (d) traced-all < cProfile, every workload
    (e) stack <= cpython-perf, every workload (3.12+)

It is a measurement, not a test: the exit status is 0 whatever the figures,
unless --check is given (then 1 when a target fails). Usage:

    PYTHONPATH=build/python python3 bench/pyhook/overhead.py [--rounds 7]
    python3 bench/pyhook/overhead.py --all-interpreters   # every supported pyenv one
    python3 bench/pyhook/overhead.py --quick --rounds 1   # the ctest smoke run

--all-interpreters runs this script under each interpreter found (pyenv's
versions, the newest patch release of each minor version, or those
given with --python) with PYTHONPATH=<build>/python, then prints a combined
Markdown table for README.md.

Standard library only; runs under every supported CPython.
"""

import argparse
import cProfile
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

try:
    import resource
except ImportError:  # not on every platform
    resource = None

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BUILD_PYTHON = os.path.normpath(
    os.path.join(HERE, os.pardir, os.pardir, "build", "python"))
HOT_MODULE = "workloads"  # what the "excluded" modes filter out

TARGET_FLOOR = 1.15      # (a) traced-all / floor
TARGET_FIB_311 = 1.8     # (b) fib traced-all / untraced on 3.11
TARGET_EXCLUDED = 1.10   # (c) excluded / untraced on 3.12+

def _supported_minors():
    """The supported minor versions, from their one statement."""
    ns = {}
    path = os.path.join(HERE, os.pardir, os.pardir, "pyhook", "python",
                        "tracestore", "_supported.py")
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), ns)
    return range(ns["OLDEST"][1], ns["NEWEST"][1] + 1)


SUPPORTED_MINORS = _supported_minors()


# --------------------------------------------------------------------------
# one interpreter

class Mode:
    """One way of running a workload.

    kind is "untraced", "trace", "perf-trampoline" or "cprofile"; hook,
    exclude and stack (mode="stack") are passed to tracestore.enable for
    "trace".
    """

    def __init__(self, key, kind, hook=None, exclude=(), stack=False):
        self.key, self.kind, self.hook, self.exclude = key, kind, hook, exclude
        self.stack = stack


def build_modes(tracestore):
    """(modes, traced_all_key, excluded_key) for this interpreter."""
    from tracestore import _tracestore
    hooks = list(_tracestore.hooks())  # the backends this interpreter offers
    modes = [Mode("untraced", "untraced"), Mode("floor", "trace", "_floor")]
    try:  # the bare sys.monitoring callback (bench/pyhook/monitoring_floor.c)
        import _monitoring_floor  # noqa: F401
        modes.append(Mode("mon-floor", "monitoring-floor"))
    except ImportError:
        pass
    for hook in ("eval-frame", "monitoring", "setprofile"):
        if hook in hooks:
            modes.append(Mode(hook, "trace", hook))
    traced_all = tracestore.default_hook()
    excl_default = tracestore.default_hook()
    for hook in (excl_default, "eval-frame"):
        key = "excl:" + hook
        if all(m.key != key for m in modes):
            modes.append(Mode(key, "trace", hook, [HOT_MODULE]))
    modes.append(Mode("stack", "trace", stack=True))
    # (3.14+ registers a code watcher at each activation and never frees it:
    # after eight, activating fails, so it is measured only before 3.14.)
    if hasattr(sys, "activate_stack_trampoline") and sys.version_info < (3, 14):
        modes.append(Mode("cpython-perf", "perf-trampoline"))
    modes.append(Mode("cProfile", "cprofile"))
    return modes, traced_all, "excl:" + excl_default


def _minor_faults():
    if resource is None:
        return 0
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _tree_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def _timed(func, size):
    """(seconds, result, minor page faults) of one call of func(size)."""
    f0 = _minor_faults()
    t0 = time.perf_counter()
    result = func(size)
    t1 = time.perf_counter()
    return t1 - t0, result, _minor_faults() - f0


def run_once(mode, func, size, tmpdir, serial):
    """Runs func(size) once in `mode`; returns (seconds, result, minor page
    faults during the call, bytes of trace written).

    Only the call is timed: the trace is opened before and closed after.
    """
    import tracestore
    gc.collect()
    trace_bytes = 0
    if mode.kind == "trace":
        path = os.path.join(
            tmpdir, "%s-%d.trace" % (re.sub(r"[^\w.-]", "_", mode.key), serial))
        tracestore.enable(path, exclude=list(mode.exclude), hook=mode.hook,
                          mode="stack" if mode.stack else "instrumented",
                          quiet=True)
        try:
            secs, result, faults = _timed(func, size)
        finally:
            tracestore.disable()
        if not os.path.exists(path):
            raise RuntimeError("mode %s wrote no trace at %s" % (mode.key, path))
        trace_bytes = _tree_bytes(path)
        shutil.rmtree(path, ignore_errors=True)
    elif mode.kind == "perf-trampoline":
        sys.activate_stack_trampoline("perf")
        try:
            secs, result, faults = _timed(func, size)
        finally:
            sys.deactivate_stack_trampoline()
    elif mode.kind == "monitoring-floor":
        import _monitoring_floor
        _monitoring_floor.start()
        try:
            secs, result, faults = _timed(func, size)
        finally:
            _monitoring_floor.stop()
    elif mode.kind == "cprofile":
        prof = cProfile.Profile()
        prof.enable()
        try:
            secs, result, faults = _timed(func, size)
        finally:
            prof.disable()
        del prof
    else:
        secs, result, faults = _timed(func, size)
    return secs, result, faults, trace_bytes


def measure(args):
    """Runs every workload in every mode, interleaved; returns the report
    (a JSON-able dict)."""
    import tracestore
    import workloads

    names = args.workloads or list(workloads.WORKLOADS)
    modes, traced_all, excluded = build_modes(tracestore)
    sizes = {}
    for name in names:
        w = workloads.WORKLOADS[name]
        sizes[name] = w.quick if args.quick else (args.size or w.size)

    # Warm-up, untimed: the first calls specialise the bytecode (3.11+), and
    # the first session of each backend sets up its per-process state. The
    # untraced timings taken here, before any hook was ever installed, are
    # kept as "pristine" to check that the hooks leave no cost behind.
    expected, pristine = {}, {}
    tmpdir = tempfile.mkdtemp(prefix="tracestore-overhead-", dir=args.tmpdir)
    serial = 0
    try:
        for name in names:
            func = workloads.WORKLOADS[name].func
            expected[name] = func(sizes[name])
            pristine[name] = min(run_once(modes[0], func, sizes[name], tmpdir,
                                          0)[0] for _ in range(2))
        for name in names:
            func = workloads.WORKLOADS[name].func
            for mode in modes[1:]:
                serial += 1
                run_once(mode, func, sizes[name], tmpdir, serial)

        # The measurement proper: round-robin over the modes, N rounds, the
        # mode order rotated each round so that no mode always follows the
        # same neighbour (a trace just closed leaves dirty pages behind).
        # Every mode thus sees the same mix of machine conditions, and the
        # ratios come from the same minutes of the same process.
        samples = {name: {m.key: [] for m in modes} for name in names}
        faults = {name: {m.key: [] for m in modes} for name in names}
        written = {name: {m.key: 0 for m in modes} for name in names}
        for r in range(args.rounds):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            for name in names:
                func = workloads.WORKLOADS[name].func
                for mode in order:
                    serial += 1
                    secs, result, nflt, nbytes = run_once(
                        mode, func, sizes[name], tmpdir, serial)
                    if result != expected[name]:
                        raise RuntimeError(
                            "%s under %s returned %r, untraced %r"
                            % (name, mode.key, result, expected[name]))
                    samples[name][mode.key].append(secs)
                    faults[name][mode.key].append(nflt)
                    written[name][mode.key] = max(written[name][mode.key],
                                                  nbytes)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
        # what stack mode and CPython's trampoline wrote for perf
        for name in ("/tmp/perf-%d.map", "/tmp/jit-%d.dump"):
            try:
                os.remove(name % os.getpid())
            except OSError:
                pass

    # The statistic: the minimum by default. On a shared, noisy machine the
    # noise is one-sided -- other processes, interrupts, frequency changes,
    # page-cache work and, on virtual machines, the host backing guest pages
    # touched for the first time (the recording modes fault in tens of MB of
    # fresh trace pages per run, so they take most of that) only ever add
    # time -- so each mode's fastest run is the best estimate of its own
    # cost, and the ratio of two minima is far steadier than the ratio of two
    # means or medians, which carry whatever load the machine had. The
    # samples are all kept in the --json output; --stat median is there to
    # check that a figure is not a lucky outlier.
    pick = min if args.stat == "min" else _median
    rows = {}
    for name in names:
        t = {k: pick(v) for k, v in samples[name].items()}
        base = t["untraced"]
        rows[name] = {
            "size": sizes[name],
            "describe": workloads.WORKLOADS[name].describe(sizes[name]),
            "untraced_ms": base * 1e3,
            "pristine_ms": pristine[name] * 1e3,
            "ratios": {k: v / base for k, v in t.items()},
            "samples_ms": {k: [s * 1e3 for s in v]
                           for k, v in samples[name].items()},
            # minor page faults during the call (median), and trace size:
            # recording writes into freshly mapped file pages, and faulting
            # them in is a large part of the cost above the floor
            "minor_faults": {k: _median(v) for k, v in faults[name].items()},
            "trace_bytes": written[name],
        }
    version = sys.version_info
    report = {
        "python": "%d.%d.%d" % version[:3],
        "minor": "%d.%d" % version[:2],
        "executable": sys.executable,
        "rounds": args.rounds,
        "stat": args.stat,
        "quick": bool(args.quick),
        "modes": [m.key for m in modes],
        "traced_all": traced_all,
        "excluded": excluded,
        "workloads": rows,
    }
    report["targets"] = evaluate_targets(report)
    return report


def _median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def evaluate_targets(report):
    """[(label, status, detail)], status PASS, FAIL or n/a."""
    rows = report["workloads"]
    ta, ex = report["traced_all"], report["excluded"]
    minor = tuple(int(x) for x in report["minor"].split("."))
    out = []

    def check(label, items, limit_of):
        # items: [(workload, value, limit)], PASS when every value <= limit
        if not items:
            out.append((label, "n/a", ""))
            return
        ok = all(v < lim if limit_of == "<" else v <= lim
                 for _, v, lim in items)
        detail = ", ".join("%s %.2f%s%.2f" % (n, v, limit_of, lim)
                           for n, v, lim in items)
        out.append((label, "PASS" if ok else "FAIL", detail))

    check("(a) traced-all (%s) <= %.2f x floor" % (ta, TARGET_FLOOR),
          [(n, r["ratios"][ta] / r["ratios"]["floor"], TARGET_FLOOR)
           for n, r in rows.items()], "<=")
    if minor == (3, 11) and "fib" in rows:
        check("(b) fib traced-all (%s) <= %.1f on 3.11" % (ta, TARGET_FIB_311),
              [("fib", rows["fib"]["ratios"][ta], TARGET_FIB_311)], "<=")
    else:
        out.append(("(b) fib traced-all <= %.1f on 3.11" % TARGET_FIB_311,
                    "n/a", "not 3.11" if minor != (3, 11) else "no fib"))
    if minor >= (3, 12):
        check("(c) excluded (%s) <= %.2f" % (ex[5:], TARGET_EXCLUDED),
              [(n, r["ratios"][ex], TARGET_EXCLUDED)
               for n, r in rows.items()], "<=")
    else:
        out.append(("(c) excluded <= %.2f on 3.12+" % TARGET_EXCLUDED,
                    "n/a", "before 3.12"))
    check("(d) traced-all (%s) < cProfile" % ta,
          [(n, r["ratios"][ta], r["ratios"]["cProfile"])
           for n, r in rows.items()], "<")
    if "cpython-perf" in report["modes"]:
        check("(e) stack <= CPython's perf trampoline",
              [(n, r["ratios"]["stack"], r["ratios"]["cpython-perf"])
               for n, r in rows.items()], "<=")
    else:
        out.append(("(e) stack <= CPython's perf trampoline", "n/a",
                    "before 3.12"))
    return out


def format_report(report):
    """The per-interpreter table and target lines, as text."""
    modes = report["modes"]
    ta, ex = report["traced_all"], report["excluded"]
    lines = []
    lines.append(
        "CPython %s (%s) -- %s of %d interleaved round(s)%s; ratios to untraced"
        % (report["python"], report["executable"], report["stat"],
           report["rounds"], ", --quick sizes" if report["quick"] else ""))
    lines.append("  traced-all = %s (default hook, no filter); excluded = %s "
                 "(default hook with exclude=[%r])"
                 % (ta, ex[5:], HOT_MODULE))
    cols = ["untraced ms"] + modes[1:] + ["traced/floor"]
    header = ["workload"] + cols
    table = [header]
    for name, r in report["workloads"].items():
        row = [name, "%.1f" % r["untraced_ms"]]
        row += ["%.2f" % r["ratios"][k] for k in modes[1:]]
        row.append("%.2f" % (r["ratios"][ta] / r["ratios"]["floor"]))
        table.append(row)
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        lines.append("  " + "  ".join(
            c.ljust(w) if j == 0 else c.rjust(w)
            for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    sizes = ", ".join("%s = %s" % (n, r["describe"])
                      for n, r in report["workloads"].items())
    lines.append("  sizes: " + sizes)
    lines.append("  per %s run: " % ta + ", ".join(
        "%s %.1f MB of trace, %d minor faults (untraced %d)"
        % (n, r["trace_bytes"][ta] / 1e6, r["minor_faults"][ta],
           r["minor_faults"]["untraced"])
        for n, r in report["workloads"].items()))
    for name, r in report["workloads"].items():
        drift = r["untraced_ms"] / r["pristine_ms"]
        if drift > 1.05:
            lines.append("  note: %s untraced is %.2fx its time before any hook "
                         "was installed (%.1f ms): a hook may leave a cost "
                         "behind" % (name, drift, r["pristine_ms"]))
    lines.append("  targets:")
    for label, status, detail in report["targets"]:
        lines.append("    %-4s %s%s" % (status, label,
                                        ("  [" + detail + "]") if detail else ""))
    return "\n".join(lines)


def run_single(args):
    try:
        import tracestore  # noqa: F401
    except ModuleNotFoundError as e:
        if e.name != "tracestore":
            raise
        # not on PYTHONPATH: try the build tree next to this script
        sys.path.insert(0, args.build_python)
        import tracestore  # noqa: F401
    if HERE not in sys.path:
        sys.path.insert(0, HERE)
    report = measure(args)
    print(format_report(report))
    sys.stdout.flush()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    failed = any(status == "FAIL" for _, status, _ in report["targets"])
    return 1 if (args.check and failed) else 0


# --------------------------------------------------------------------------
# every interpreter

def _pyenv_roots():
    roots = []
    if os.environ.get("PYENV_ROOT"):
        roots.append(os.environ["PYENV_ROOT"])
    candidates = [shutil.which("pyenv"),
                  os.path.join(os.environ.get("PYENV_ROOT", ""), "bin", "pyenv"),
                  os.path.expanduser("~/.pyenv/bin/pyenv"),
                  "/root/.pyenv/bin/pyenv"]
    for exe in candidates:
        if exe and os.path.isfile(exe) and os.access(exe, os.X_OK):
            try:
                out = subprocess.run([exe, "root"], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL,
                                     universal_newlines=True, timeout=30)
                if out.returncode == 0 and out.stdout.strip():
                    roots.append(out.stdout.strip())
            except (OSError, subprocess.SubprocessError):
                pass
            break
    roots.append(os.path.expanduser("~/.pyenv"))
    seen, unique = set(), []
    for r in roots:
        r = os.path.realpath(r)
        if r not in seen and os.path.isdir(os.path.join(r, "versions")):
            seen.add(r)
            unique.append(r)
    return unique


def find_interpreters():
    """{(3, minor): python3 executable}: the newest pyenv CPython release of
    each supported minor version (plain x.y.z names only: no -dev, t, pypy)."""
    best = {}
    for root in _pyenv_roots():
        vdir = os.path.join(root, "versions")
        for name in os.listdir(vdir):
            m = re.match(r"^3\.(\d+)\.(\d+)$", name)
            if not m or int(m.group(1)) not in SUPPORTED_MINORS:
                continue
            exe = os.path.join(vdir, name, "bin", "python3")
            if not os.access(exe, os.X_OK):
                continue
            key = (3, int(m.group(1)))
            patch = int(m.group(2))
            if key not in best or patch > best[key][0]:
                best[key] = (patch, exe)
    return {k: v[1] for k, v in sorted(best.items())}


def child_argv(args, exe, json_path):
    argv = [exe, os.path.abspath(__file__), "--rounds", str(args.rounds),
            "--stat", args.stat, "--json", json_path,
            "--build-python", args.build_python]
    if args.quick:
        argv.append("--quick")
    if args.size:
        argv += ["--size", str(args.size)]
    if args.workloads:
        argv += ["--workloads", ",".join(args.workloads)]
    if args.tmpdir:
        argv += ["--tmpdir", args.tmpdir]
    return argv


def markdown_table(reports):
    head = ["Python", "workload", "untraced ms", "floor", "monitoring floor",
            "traced (default hook)",
            "traced (eval-frame)", "traced (monitoring)",
            "excluded (default hook)", "stack mode",
            "CPython -X perf", "cProfile"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + "|"]
    for rep in reports:
        for name, r in rep["workloads"].items():
            ratios = r["ratios"]

            def cell(key):
                return ("%.2f" % ratios[key]) if key in ratios else "—"

            excl = "%.2f (%s)" % (ratios[rep["excluded"]], rep["excluded"][5:])
            default = "%.2f (%s)" % (ratios[rep["traced_all"]], rep["traced_all"])
            lines.append("| " + " | ".join([
                rep["python"], name, "%.1f" % r["untraced_ms"], cell("floor"),
                cell("mon-floor"), default, cell("eval-frame"), cell("monitoring"), excl, cell("stack"),
                cell("cpython-perf"), cell("cProfile")]) + " |")
    first = reports[0]
    sizes = ", ".join("%s = %s" % (n, r["describe"])
                      for n, r in first["workloads"].items())
    lines.append("")
    lines.append("Ratios to untraced wall time, %s of %d interleaved rounds in "
                 "one process per interpreter; floor = eval-frame hook that "
                 "only reads the clock twice per frame; excluded = "
                 "exclude=[%r] (the workloads' module) with the default hook; "
                 "stack mode = record --mode stack; CPython -X perf = "
                 "sys.activate_stack_trampoline('perf'), 3.12 and 3.13. "
                 "Sizes: %s."
                 % (first["stat"], first["rounds"], HOT_MODULE, sizes))
    return "\n".join(lines)


def run_all(args):
    if args.python:
        exes = list(args.python)
    else:
        exes = list(find_interpreters().values())
    if not exes:
        print("no supported pyenv CPython found; running under %s only"
              % sys.executable)
        exes = [sys.executable]
    env = dict(os.environ)
    env["PYTHONPATH"] = args.build_python
    reports, crashed, skipped = [], [], []
    tmp = tempfile.mkdtemp(prefix="tracestore-overhead-json-")
    try:
        for i, exe in enumerate(exes):
            probe = subprocess.run(
                [exe, "-c", "import tracestore"], env=env,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                universal_newlines=True)
            if probe.returncode != 0:
                last = (probe.stdout.strip().splitlines() or ["?"])[-1]
                print("skipping %s: cannot import tracestore from %s (%s)"
                      % (exe, args.build_python, last))
                skipped.append(exe)
                continue
            json_path = os.path.join(tmp, "%d.json" % i)
            sys.stdout.flush()
            rc = subprocess.call(child_argv(args, exe, json_path), env=env)
            print()
            if rc != 0 or not os.path.exists(json_path):
                print("%s: the benchmark failed (exit status %d)" % (exe, rc))
                crashed.append(exe)
                continue
            with open(json_path) as f:
                reports.append(json.load(f))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if reports:
        print("Combined (Markdown):\n")
        print(markdown_table(reports))
        print()
        print("Targets:")
        for rep in reports:
            for label, status, detail in rep["targets"]:
                if status != "n/a":
                    print("  %-5s %-4s %s  [%s]"
                          % (rep["minor"], status, label, detail))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(reports, f, indent=1)
    if crashed:
        return 2
    failed = any(status == "FAIL" for rep in reports
                 for _, status, _ in rep["targets"])
    return 1 if (args.check and failed) else 0


# --------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(
        description="Overhead of the tracestore Python recorder.")
    p.add_argument("--rounds", type=int, default=7,
                   help="interleaved rounds over all modes (default 7)")
    p.add_argument("--quick", action="store_true",
                   help="tiny workload sizes (smoke test)")
    p.add_argument("--size", type=int, default=0,
                   help="override every workload's size")
    p.add_argument("--workloads", type=lambda s: [w for w in s.split(",") if w],
                   help="comma-separated subset: fib,richards,nbody")
    p.add_argument("--stat", choices=("min", "median"), default="min",
                   help="per-mode statistic over the rounds (default min)")
    p.add_argument("--check", action="store_true",
                   help="exit 1 when a target fails")
    p.add_argument("--json", help="also write the results to this JSON file")
    p.add_argument("--tmpdir", help="where the traces go (default: $TMPDIR)")
    p.add_argument("--all-interpreters", action="store_true",
                   help="run under every supported pyenv CPython")
    p.add_argument("--python", action="append",
                   help="with --all-interpreters: this interpreter "
                        "(repeatable) instead of the pyenv ones")
    p.add_argument("--build-python", default=DEFAULT_BUILD_PYTHON,
                   help="the build's python/ directory (default %(default)s)")
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    args.build_python = os.path.abspath(args.build_python)
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    if args.workloads:
        sys.path.insert(0, HERE)
        import workloads
        unknown = [w for w in args.workloads if w not in workloads.WORKLOADS]
        if unknown:
            p.error("unknown workload(s): %s" % ", ".join(unknown))
    if args.all_interpreters:
        return run_all(args)
    return run_single(args)


if __name__ == "__main__":
    sys.exit(main())
