"""Runs a program traced, exactly as it would run untraced.

`record` does not run the program inside itself: it re-executes the same
interpreter on the same script or module, with a bootstrap directory on
PYTHONPATH whose sitecustomize starts recording before the program's first
line. So sys.argv, __main__, sys.path[0], stdout, stderr, signals and the
exit status are the program's own; the trace closes at exit (normal exit,
uncaught exception, sys.exit, SIGINT) or on SIGTERM.
"""

import marshal
import os
import sys

CONFIG_VAR = "TRACESTORE_RECORD_CONFIG"
# Settings longer than this do not travel in the environment (one variable
# may hold 128 KiB, all of them about 2 MiB: 5,000 prefixes break that, and
# the program's own children inherit whatever we leave there). They go in a
# file, and CONFIG_VAR holds "@" and its path: first OUTPUT.config (beside
# the trace, on its file system), which the program moves into the trace
# once it exists (TRACE/record.config) for --follow-children's children.
CONFIG_INLINE_MAX = 4096
CONFIG_FILE_IN_TRACE = "record.config"
SAVED_PATH_VAR = "TRACESTORE_SAVED_PYTHONPATH"
MAPS_VAR = "TRACESTORE_PREEXEC_MAPS"


def _file_mappings():
    """This process's file mappings, "start-end" in hex, for the exec()ed
    program to hide from perf (see _tracestore._cover_stale_mappings)."""
    try:
        with open("/proc/self/maps") as f:
            lines = f.read().splitlines()
    except OSError:
        return ""
    fields = [line.split(None, 5) for line in lines]
    return " ".join(f[0] for f in fields if len(f) == 6 and f[5].startswith("/"))


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
    text = encode_config(config)
    config_file = None
    if len(text) > CONFIG_INLINE_MAX:
        config_file = config["output"] + ".config"
        try:
            with open(config_file, "xb") as f:
                f.write(marshal.dumps(config, 4))
        except OSError as e:
            print("tracestore: cannot write %s: %s" % (config_file, e),
                  file=sys.stderr)
            return 2
        text = "@" + config_file
    env[CONFIG_VAR] = text
    if config.get("mode") == "stack":  # only perf needs them hidden
        env[MAPS_VAR] = _file_mappings()
    argv = [sys.executable] + _interpreter_options() + run
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, argv)
    except OSError as e:
        print("tracestore: cannot run %s: %s" % (sys.executable, e),
              file=sys.stderr)
        if config_file is not None:
            os.unlink(config_file)
        return 2


def encode_config(config):
    """CONFIG_VAR's value for `config` (str, bool, None, lists of str):
    marshal, in hex. (json would import re and enum: milliseconds on the
    start-up of every recorded program. The format of these types has not
    changed since Python 3.4, so children on another version read it too.)"""
    return "m" + marshal.dumps(config, 4).hex()


def read_config(value):
    """The settings from CONFIG_VAR's value: (config, path of the file they
    came from, or None). ValueError if they cannot be read."""
    try:
        if value.startswith("@"):
            with open(value[1:], "rb") as f:
                return marshal.loads(f.read()), value[1:]
        if value.startswith("m"):
            return marshal.loads(bytes.fromhex(value[1:])), None
    except (EOFError, TypeError) as e:
        raise ValueError(str(e))
    raise ValueError("unknown format")
