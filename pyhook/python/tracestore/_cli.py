"""The command line: python -m tracestore record|query|info|verify|--enable|--disable.

    python -m tracestore record [-o TRACE] [-i PREFIX]... [-x PREFIX]...
        [--exclude-stdlib] [--lines] [--c-calls] [--hook HOOK] [--no-threads]
        [--follow-children] -- script.py ARGS     (or -- -m module ARGS)
    python -m tracestore attach PID [-o TRACE] [-i PREFIX]... [-x PREFIX]...
        [--mode MODE] [--hook HOOK] [--duration SECONDS]    (CPython 3.14+)
    python -m tracestore detach PID
    python -m tracestore query TRACE [--csv|--json] "SQL"
    python -m tracestore info|verify TRACE
    python -m tracestore lines TRACE [--function NAME|ID] [-n N]
    python -m tracestore --enable [VAR] | --disable
"""

import os
import sys

# argparse only for `record`; shutil and subprocess only for the native
# commands: `record` is on the start-up path of the program it runs.

USAGE = __doc__.split("\n\n", 1)[1]


def _native_cli():
    """The native `tracestore` binary: $TRACESTORE_CLI, the one shipped in
    the package, or one on PATH."""
    import shutil
    env = os.environ.get("TRACESTORE_CLI")
    if env:
        return env
    shipped = os.path.join(os.path.dirname(__file__), "_bin", "tracestore")
    if os.access(shipped, os.X_OK):
        return shipped
    return shutil.which("tracestore")


def _run_native(args):
    exe = _native_cli()
    if exe is None:
        print("tracestore: the native 'tracestore' command was not found "
              "(build the project, or set TRACESTORE_CLI)", file=sys.stderr)
        return 2
    import subprocess
    return subprocess.call([exe] + args)


def _add_session_options(p):
    """The options that say what a session records (record and attach)."""
    p.add_argument("-o", "--output", metavar="TRACE",
                   help="trace to create (default: a new name here)")
    p.add_argument("-i", "--include", metavar="PREFIX", action="append",
                   default=[], help="trace only these modules (repeatable)")
    p.add_argument("-x", "--exclude", metavar="PREFIX", action="append",
                   default=[], help="never trace these modules (repeatable)")
    p.add_argument("--exclude-stdlib", action="store_true",
                   help="do not trace the interpreter's own library")
    p.add_argument("--lines", action="store_true",
                   help="record line events in traced code")
    p.add_argument("--c-calls", action="store_true",
                   help="record calls of C functions")
    p.add_argument("--hook", choices=("eval-frame", "monitoring", "setprofile"),
                   help="force a hook backend (default: per version)")
    p.add_argument("--no-threads", action="store_true",
                   help="trace the main thread only")
    p.add_argument("--mode", choices=("instrumented", "stack"),
                   default="instrumented",
                   help="instrumented: record every call (default); stack: "
                        "record no calls, run each traced function through "
                        "its own native trampoline for perf and ETW stack "
                        "sampling")


def _record_parser():
    import argparse
    p = argparse.ArgumentParser(
        prog="python -m tracestore record",
        description="Record a Python program into a trace.",
        usage="%(prog)s [options] -- script.py ARGS | -- -m module ARGS")
    _add_session_options(p)
    p.add_argument("--follow-children", action="store_true",
                   help="trace child Python processes into the same trace")
    p.add_argument("--etw", action="store_true",
                   help="also emit python-etwtrace's ETW events (Windows; "
                        "user_events on Linux)")
    p.add_argument("--no-perf-files", action="store_true",
                   help="stack mode: do not write /tmp/perf-<pid>.map and "
                        "/tmp/jit-<pid>.dump")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing of our own")
    return p


def _attach_parser(detach=False):
    import argparse
    name = "detach" if detach else "attach"
    p = argparse.ArgumentParser(
        prog="python -m tracestore " + name,
        description=("Stop recording in a process that `attach` started "
                     "recording in." if detach else
                     "Start recording inside a running CPython 3.14+ "
                     "process (sys.remote_exec); the program goes on "
                     "untouched."))
    p.add_argument("pid", type=int, help="the process")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="print nothing of our own")
    if detach:
        return p
    _add_session_options(p)
    p.add_argument("--duration", type=float, metavar="SECONDS",
                   help="detach after SECONDS (or on Ctrl-C); without it, "
                        "recording goes on until `detach PID` or exit")
    return p


def _attach(argv, detach):
    args = _attach_parser(detach).parse_args(argv)
    from tracestore import _attach
    try:
        if detach:
            return _attach.detach(args.pid, args.quiet)
        from tracestore import _session
        output = os.path.abspath(args.output) if args.output else \
            os.path.abspath(_session.new_trace_name("pid%d" % args.pid))
        if os.path.exists(output):
            print("tracestore: %s already exists" % output, file=sys.stderr)
            return 2
        config = {"output": output, "include": args.include,
                  "exclude": args.exclude, "exclude_stdlib": args.exclude_stdlib,
                  "lines": args.lines, "c_calls": args.c_calls,
                  "hook": args.hook, "with_threads": not args.no_threads,
                  "mode": args.mode}
        return _attach.attach(args.pid, config, args.duration, args.quiet)
    except _attach.AttachError as e:
        print("tracestore %s: %s" % ("detach" if detach else "attach", e),
              file=sys.stderr)
        return 2


_RECORD_FLAGS = {
    "--exclude-stdlib": "exclude_stdlib", "--lines": "lines",
    "--c-calls": "c_calls", "--no-threads": "no_threads",
    "--follow-children": "follow_children", "--etw": "etw",
    "--no-perf-files": "no_perf_files", "-q": "quiet", "--quiet": "quiet",
}
_RECORD_VALUES = {
    "-o": "output", "--output": "output", "-i": "include",
    "--include": "include", "-x": "exclude", "--exclude": "exclude",
    "--hook": "hook", "--mode": "mode",
}
_RECORD_CHOICES = {
    "hook": ("eval-frame", "monitoring", "setprofile"),
    "mode": ("instrumented", "stack"),
}


class _Options:
    pass


def _parse_record_options(options):
    """What _record_parser() would answer, for plain valid options, without
    importing argparse (about 10 ms, on the start-up path of every recorded
    program); None for anything else (help, errors, abbreviations,
    --opt=value, values that look like options), which argparse handles."""
    args = _Options()
    for name in _RECORD_FLAGS.values():
        setattr(args, name, False)
    args.output = args.hook = None
    args.include, args.exclude, args.mode = [], [], "instrumented"
    i = 0
    while i < len(options):
        a = options[i]
        if a in _RECORD_FLAGS:
            setattr(args, _RECORD_FLAGS[a], True)
        elif a in _RECORD_VALUES and i + 1 < len(options):
            key, value = _RECORD_VALUES[a], options[i + 1]
            if value.startswith("-") or value not in _RECORD_CHOICES.get(
                    key, (value,)):
                return None
            if key in ("include", "exclude"):
                getattr(args, key).append(value)
            else:
                setattr(args, key, value)
            i += 1
        else:
            return None
        i += 1
    return args


def _record(argv):
    if "--" in argv:
        split = argv.index("--")
        options, target = argv[:split], argv[split + 1:]
    else:
        # Allow "record script.py" without "--" when unambiguous.
        options, target = [], []
        for i, a in enumerate(argv):
            if not a.startswith("-") and (i == 0 or argv[i - 1] not in (
                    "-o", "--output", "-i", "--include", "-x", "--exclude",
                    "--hook", "--mode")):
                options, target = argv[:i], argv[i:]
                break
        else:
            options = argv
    args = _parse_record_options(options) or _record_parser().parse_args(
        options)
    if not target:
        _record_parser().error("nothing to run: give -- script.py ARGS or -- -m module ARGS")
    if target[0] == "-m":
        if len(target) < 2:
            _record_parser().error("-m needs a module name")
        run = ["-m"] + target[1:]
        stem = target[1].rsplit(".", 1)[-1]
    else:
        script = target[0]
        if not os.path.exists(script):
            print("tracestore: can't open file %r: no such file" % script,
                  file=sys.stderr)
            return 2
        run = target
        stem = os.path.splitext(os.path.basename(script))[0]
    if args.mode == "stack":
        clash = [flag for flag, on in (("--lines", args.lines),
                                       ("--c-calls", args.c_calls),
                                       ("--hook", args.hook)) if on]
        if clash:
            print("tracestore: %s: stack mode records no calls (use "
                  "--mode instrumented)" % ", ".join(clash), file=sys.stderr)
            return 2
    from tracestore import _session

    if args.output:
        output = os.path.abspath(args.output)
        parent = os.path.dirname(output) or "."
        if not os.path.isdir(parent):
            print("tracestore: cannot create %s: no directory %s"
                  % (args.output, parent), file=sys.stderr)
            return 2
        if not os.access(parent, os.W_OK):
            print("tracestore: cannot create %s: %s is not writable"
                  % (args.output, parent), file=sys.stderr)
            return 2
        if os.path.exists(output) and (not os.path.isdir(output)
                                       or os.listdir(output)):
            print("tracestore: %s already exists" % args.output,
                  file=sys.stderr)
            return 2
    else:
        output = os.path.abspath(_session.new_trace_name(stem))
        if not args.quiet:
            print("tracestore: recording to %s" % os.path.relpath(output),
                  file=sys.stderr)
    config = {
        "output": output,
        "include": args.include,
        "exclude": args.exclude,
        "exclude_stdlib": args.exclude_stdlib,
        "lines": args.lines,
        "c_calls": args.c_calls,
        "hook": args.hook,
        "with_threads": not args.no_threads,
        "follow_children": args.follow_children,
        "etw": args.etw,
        "quiet": args.quiet,
        "mode": args.mode,
        "perf_files": not args.no_perf_files,
    }
    from tracestore import _launch
    return _launch.exec_traced(run, config)


def _enable_pth(var, disable):
    import site
    import sysconfig
    target = sysconfig.get_paths()["purelib"]
    pth = os.path.join(target, "tracestore-autoenable.pth")
    if disable:
        if os.path.exists(pth):
            os.remove(pth)
            print("tracestore: removed %s" % pth)
        else:
            print("tracestore: not enabled (no %s)" % pth)
        return 0
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from tracestore import _session
    line = ("import os, sys; %s and (sys.path.append(%r) or "
            "__import__('tracestore')._session._enable_if_at_startup(%r))\n"
            % (_session.env_enabled_source(var), pkg_parent, var))
    try:
        with open(pth, "w") as f:
            f.write(line)
    except OSError as e:
        print("tracestore: cannot write %s: %s" % (pth, e), file=sys.stderr)
        return 2
    print("tracestore: runs of %s are traced when %s is set (%s)"
          % (sys.executable, var, pth))
    del site
    return 0


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE, file=sys.stdout if argv else sys.stderr)
        return 0 if argv else 2
    cmd, rest = argv[0], argv[1:]
    if cmd == "record":
        return _record(rest)
    if cmd in ("attach", "detach"):
        return _attach(rest, detach=cmd == "detach")
    if cmd in ("query", "info", "verify", "export", "top", "lines"):
        return _run_native([cmd] + rest)
    if cmd == "--enable":
        var = rest[0] if rest else "TRACESTORE_ENABLE"
        return _enable_pth(var, disable=False)
    if cmd == "--disable":
        return _enable_pth(None, disable=True)
    print("tracestore: unknown command %r\n\n%s" % (cmd, USAGE), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
