"""python -m etwtrace: python-etwtrace's command line over tracestore.

    python -m etwtrace [--instrumented|--stack] [--capture FILE] -- script.py ARGS
    python -m etwtrace [--instrumented|--stack] [--capture FILE] -- -m module ARGS
    python -m etwtrace --profile | --stacktags | --info
    python -m etwtrace --enable [VAR [TYPEVAR]] | --disable
"""

import os
import platform
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(os.path.dirname(HERE), "tracestore")
PROFILE = os.path.join(DATA, "python.wprp")
STACKTAGS = os.path.join(DATA, "python.stacktags")
PTH = "etwtrace.pth"


def _usage(message=None):
    if message:
        print("etwtrace: %s" % message, file=sys.stderr)
    print(__doc__.split("\n\n", 1)[1].rstrip(), file=sys.stderr)
    return 2


def _pth_path():
    import sysconfig
    return os.path.join(sysconfig.get_paths()["purelib"], PTH)


def _enable(args):
    var = args[0] if args else None
    type_var = args[1] if len(args) > 1 else (
        (var + "_TYPE") if var else "ETWTRACE_TYPE")
    pkg_parent = os.path.dirname(HERE)
    from tracestore import _session
    check = _session.env_enabled_source(var) if var else "True"
    line = ("import os, sys; %s and (sys.path.append(%r) or "
            "__import__('etwtrace')._pth_enable(%r, %r))\n"
            % (check, pkg_parent, var, type_var))
    path = _pth_path()
    try:
        with open(path, "w") as f:
            f.write(line)
    except OSError as e:
        print("etwtrace: cannot write %s: %s" % (path, e), file=sys.stderr)
        return 2
    print("Created %s" % PTH)
    if var:
        print("Set %%%s%% to activate" % var)
    print("Set %%%s%% to 'instrumented' to use instrumented events rather "
          "than stacks" % type_var)
    return 0


def _disable():
    path = _pth_path()
    if os.path.exists(path):
        os.remove(path)
        print("Removed %s" % PTH)
    else:
        print("etwtrace is not enabled (no %s)" % path)
    return 0


_USER_EVENTS = ("/sys/kernel/tracing/user_events_data",
                "/sys/kernel/debug/tracing/user_events_data")


def _info():
    """The tracer's technical details, as python-etwtrace's --info gives
    its own: what this interpreter and platform offer."""
    from tracestore import _session, _tracestore
    v = sys.version_info
    print("etwtrace over tracestore, CPython %d.%d.%d on %s %s"
          % (v[0], v[1], v[2], sys.platform, platform.machine()))
    print("extension:     %s" % getattr(_tracestore, "__file__", "?"))
    print("provider:      Python {99a10640-320d-4b37-9e26-c311d86da7ab} "
          "(python-etwtrace's events)")
    if sys.platform == "win32":
        sink = "ETW"
    else:
        found = [p for p in _USER_EVENTS if os.path.exists(p)]
        if found and os.access(found[0], os.W_OK):
            sink = "user_events (%s), EventHeader format" % found[0]
        elif found:
            sink = ("none: %s is not writable by this user (the events go "
                    "into the trace only)" % found[0])
        else:
            sink = ("none: no ETW and no user_events in this kernel (the "
                    "events go into the trace only)")
    print("events to:     %s" % sink)
    print("trace:         $ETWTRACE_OUTPUT, else etwtrace-TIME-PID.trace "
          "here (query it with python -m tracestore query)")
    print("stack mode:    default; every traced Python function runs through "
          "its own native trampoline, named in /tmp/perf-PID.map and "
          "/tmp/jit-PID.dump")
    caveat = _session.hook_caveat("stack")
    if caveat:
        print("               note: %s" % caveat)
    print("instrumented:  --instrumented; hook %s (available: %s)"
          % (_session.default_hook(), ", ".join(_tracestore.hooks())))
    caveat = _session.hook_caveat(_session.default_hook())
    if caveat:
        print("               note: %s" % caveat)
    print("wpr profile:   %s" % PROFILE)
    print("stack tags:    %s" % STACKTAGS)
    return 0


def _wpr(args):
    return subprocess.call(["wpr"] + args)


def main(argv):
    if "--" in argv:
        i = argv.index("--")
        options, target = argv[:i], argv[i + 1:]
    else:
        options, target = argv, []
    mode, capture = "stack", None
    it = iter(range(len(options)))
    for i in it:
        opt = options[i]
        if opt in ("-h", "--help"):
            print(__doc__.split("\n\n", 1)[1].rstrip())
            return 0
        if opt == "--instrumented":
            mode = "instrumented"
        elif opt == "--stack":
            mode = "stack"
        elif opt == "--capture":
            if i + 1 >= len(options):
                return _usage("--capture needs a file name")
            capture = options[i + 1]
            next(it, None)
        elif opt == "--profile":
            print(PROFILE)
            return 0
        elif opt == "--stacktags":
            print(STACKTAGS)
            return 0
        elif opt == "--info":
            return _info()
        elif opt == "--enable":
            return _enable(options[i + 1:])
        elif opt == "--disable":
            return _disable()
        else:
            return _usage("unknown option %r" % opt)
    if not target:
        return _usage("nothing to run: give -- script.py ARGS or -- -m module ARGS")
    if capture is not None and sys.platform != "win32":
        print("etwtrace: --capture runs the Windows Performance Recorder "
              "(wpr), which exists only on Windows", file=sys.stderr)
        return 2
    record = [sys.executable, "-m", "tracestore", "record", "--etw", "-q",
              "--mode", mode,
              "-o", os.environ.get("ETWTRACE_OUTPUT") or _new_output(), "--"]
    record += target
    if capture is None:
        return subprocess.call(record)
    profile = PROFILE + ("!ARM64" if platform.machine().lower() in
                         ("arm64", "aarch64") else "!Default")
    rc = _wpr(["-start", profile, "-instancename", "etwtrace-%d" % os.getpid()])
    if rc != 0:
        print("etwtrace: wpr -start failed (%d); run as Administrator" % rc,
              file=sys.stderr)
        return rc
    try:
        rc = subprocess.call(record)
    finally:
        stop = _wpr(["-stop", capture, "-instancename",
                     "etwtrace-%d" % os.getpid()])
        if stop != 0:
            print("etwtrace: wpr -stop failed (%d)" % stop, file=sys.stderr)
    return rc


def _new_output():
    from tracestore import _session
    return _session.new_trace_name("etwtrace")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
