#!/usr/bin/env python3
"""The cost of `record --lines` beside line_profiler and a sys.settrace line
counter, in one run, on the same functions (line_workloads.py), and whether
the three agree on every line's hit count.

    python3 bench/pyhook/lines_overhead.py [--rounds 5] [--size 200000]

Modes, each timed `rounds` times in this process (median reported as a
ratio to untraced):

    untraced        the workload alone
    tracestore      tracestore.tracing(lines=True, include=["line_workloads"])
                    with the default hook; its hits are read back with
                    `tracestore query` from the lines table
    line_profiler   line_profiler.LineProfiler with add_function() on each
                    function of line_workloads (kernprof's engine)
    settrace        a pure-Python sys.settrace tracer counting line events in
                    line_workloads' code (what a hand-made line counter costs)

line_profiler is Debian's python3-line-profiler, built for the system's
/usr/bin/python3.11: when this interpreter cannot import it, the script
re-runs itself under /usr/bin/python3.11 (PYTHONPATH must lead to a build
whose 3.11 extension that interpreter loads, e.g. build/python). The native
CLI is $TRACESTORE_CLI, the packaged one, or `tracestore` on PATH.

Hits: tracestore's must equal the settrace counter's on every line, and
line_profiler's on every line where line_profiler equals the settrace
counter; the lines where line_profiler itself differs from settrace are
listed (Debian's 4.0.2 has pyutils/line_profiler#210: if/elif lines count
only one outcome, a loop's last `for` hit is dropped).

A measurement, not a test: exit 0 whatever the figures; 1 when the hit
counts disagree as above, 2 when a tool is missing.
"""

import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
SYSTEM_PY311 = "/usr/bin/python3.11"


def run_workload(size):
    import line_workloads as w
    return (w.branchy(size), w.caller(size // 2), w.consume(size // 2))


def workload_codes():
    import line_workloads as w
    return {f.__code__ for f in w.FUNCTIONS}


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def mode_untraced(size, tmp):
    return timed(lambda: run_workload(size)), None


def mode_tracestore(size, tmp, counter=[0]):
    import tracestore
    counter[0] += 1
    out = os.path.join(tmp, "lines-%d.trace" % counter[0])
    t0 = time.perf_counter()
    with tracestore.tracing(out, include=["line_workloads"], lines=True,
                            quiet=True):
        run_workload(size)
    elapsed = time.perf_counter() - t0
    return elapsed, out


def tracestore_hits(trace):
    from tracestore import _cli
    exe = _cli._native_cli()
    if exe is None:
        raise SystemExit("lines_overhead: the native tracestore CLI was not "
                         "found (set TRACESTORE_CLI)")
    r = subprocess.run([exe, "query", trace, "--json",
                        "SELECT name, line, hits FROM lines WHERE module = "
                        "'line_workloads'"], stdout=subprocess.PIPE,
                       universal_newlines=True, check=True)
    return {(row["name"], row["line"]): row["hits"]
            for row in json.loads(r.stdout)}


def mode_line_profiler(size, tmp):
    import line_profiler
    import line_workloads as w
    lp = line_profiler.LineProfiler()
    for f in w.FUNCTIONS:
        lp.add_function(f)
    lp.enable_by_count()
    try:
        elapsed = timed(lambda: run_workload(size))
    finally:
        lp.disable_by_count()
    hits = {}
    for (_, _, name), lines in lp.get_stats().timings.items():
        for line, nhits, _ in lines:
            hits[(name, line)] = hits.get((name, line), 0) + nhits
    return elapsed, hits


def mode_settrace(size, tmp):
    codes = workload_codes()
    hits = collections.Counter()

    def local(frame, event, arg):
        if event == "line":
            hits[(frame.f_code.co_name, frame.f_lineno)] += 1
        return local

    def tracer(frame, event, arg):
        if frame.f_code not in codes:
            return None
        return local(frame, event, arg)

    sys.settrace(tracer)
    try:
        elapsed = timed(lambda: run_workload(size))
    finally:
        sys.settrace(None)
    return elapsed, dict(hits)


MODES = [("untraced", mode_untraced), ("tracestore", mode_tracestore),
         ("line_profiler", mode_line_profiler), ("settrace", mode_settrace)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--size", type=int, default=200000)
    p.add_argument("--json", metavar="FILE", help="also write the figures")
    p.add_argument("--no-line-profiler", action="store_true",
                   help="only tracestore and settrace (interpreters Debian "
                   "ships no line_profiler for)")
    args = p.parse_args(argv)
    modes = [m for m in MODES
             if not (args.no_line_profiler and m[0] == "line_profiler")]
    try:
        if not args.no_line_profiler:
            import line_profiler  # noqa: F401
    except ImportError:
        if (os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PY311)
                and os.access(SYSTEM_PY311, os.X_OK)):
            return subprocess.call([SYSTEM_PY311, os.path.abspath(__file__)]
                                   + (argv if argv is not None
                                      else sys.argv[1:]))
        print("lines_overhead: line_profiler is not importable here (apt-get "
              "install python3-line-profiler, for /usr/bin/python3.11)",
              file=sys.stderr)
        return 2
    import tracestore

    tmp = tempfile.mkdtemp(prefix="tslines-")
    try:
        times = {name: [] for name, _ in modes}
        hits = {}
        for _ in range(args.rounds):
            for name, mode in modes:  # interleaved: drift hits every mode
                elapsed, extra = mode(args.size, tmp)
                times[name].append(elapsed)
                if name == "tracestore":
                    hits[name] = tracestore_hits(extra)
                    shutil.rmtree(extra, ignore_errors=True)
                elif extra is not None:
                    hits[name] = extra
        base = statistics.median(times["untraced"])
        print("lines_overhead: CPython %s, hook %s, size %d, %d rounds "
              "(median; ratio to untraced)"
              % (sys.version.split()[0], tracestore.default_hook(),
                 args.size, args.rounds))
        report = {"python": sys.version.split()[0],
                  "hook": tracestore.default_hook(), "size": args.size,
                  "rounds": args.rounds, "modes": {}}
        for name, _ in modes:
            med = statistics.median(times[name])
            print("  %-14s %8.1f ms  %5.2fx" % (name, med * 1e3, med / base))
            report["modes"][name] = {"median_s": med, "ratio": med / base}
        # Hits: ours must equal the settrace counter's on every line, and
        # line_profiler's wherever line_profiler itself agrees with settrace
        # (Debian's 4.0.2 miscounts if/elif lines and a loop's last `for`
        # hit: pyutils/line_profiler#210, fixed upstream in 4.1).
        ours, st = hits["tracestore"], hits["settrace"]
        lp = hits.get("line_profiler", st)
        agree = ours == st
        print("  hits: tracestore %s settrace on every line (%d lines, %d "
              "hits)" % ("==" if agree else "!=", len(st), sum(st.values())))
        lp_bad = sorted(k for k in set(lp) | set(st) if lp.get(k) != st.get(k))
        lp_ok = [k for k in set(lp) | set(st) if lp.get(k) == st.get(k)]
        agree_lp = all(ours.get(k) == lp.get(k) for k in lp_ok)
        agree &= agree_lp
        if "line_profiler" in hits:
            print("  hits: tracestore %s line_profiler on the %d lines where "
                  "line_profiler == settrace" % ("==" if agree_lp else "!=",
                                                 len(lp_ok)))
        for key in sorted(set(ours) | set(st)):
            if ours.get(key) != st.get(key):
                print("    %s:%d tracestore %s, settrace %s"
                      % (key[0], key[1], ours.get(key), st.get(key)))
        for key in lp_bad:
            print("    line_profiler %s: %s:%d line_profiler %s, settrace and "
                  "tracestore %s" % (getattr(sys.modules.get("line_profiler"),
                                             "__version__", "?"),
                                     key[0], key[1], lp.get(key), st.get(key)))
        report["line_profiler_differs_from_settrace"] = [
            [k[0], k[1], lp.get(k), st.get(k)] for k in lp_bad]
        report["hits_agree"] = agree
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
        return 0 if agree else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
