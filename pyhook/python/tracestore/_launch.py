"""Runs a program traced, exactly as it would run untraced.

`record` does not run the program inside itself: it re-executes the same
interpreter on the same script or module, with a bootstrap directory on
PYTHONPATH whose sitecustomize starts recording before the program's first
line. So sys.argv, __main__, sys.path[0], stdout, stderr, signals and the
exit status are the program's own; the trace closes at exit (normal exit,
uncaught exception, sys.exit, SIGINT) or on SIGTERM.
"""

import json
import os
import sys

CONFIG_VAR = "TRACESTORE_RECORD_CONFIG"
SAVED_PATH_VAR = "TRACESTORE_SAVED_PYTHONPATH"


def _interpreter_options():
    """The interpreter options (-X, -O, -W, ...) this process was given."""
    orig = getattr(sys, "orig_argv", None)
    if not orig:
        return []
    opts = []
    for a in orig[1:]:
        if a == "-m" or not a.startswith("-"):
            break
        opts.append(a)
    return opts


def exec_traced(run, config):
    here = os.path.dirname(os.path.abspath(__file__))
    env = os.environ
    saved = env.get("PYTHONPATH")
    env[SAVED_PATH_VAR] = saved if saved is not None else "\0"
    parts = [os.path.join(here, "_bootstrap"), os.path.dirname(here)]
    if saved:
        parts.append(saved)
    env["PYTHONPATH"] = os.pathsep.join(parts)
    env[CONFIG_VAR] = json.dumps(config)
    argv = [sys.executable] + _interpreter_options() + run
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, argv)
    except OSError as e:
        print("tracestore: cannot run %s: %s" % (sys.executable, e),
              file=sys.stderr)
        return 2
