"""The Python API over the native recorder: sessions, marks, defaults."""

import atexit
import os
import sys
import time

# Imports stay few and cheap (no contextlib, no sysconfig: sysconfig pulls
# in threading): this module loads at the start of every traced program.

from . import _tracestore

_FALSE = ("", "0", "no", "false", "off")
_atexit_registered = False
# The threading hooks enable() replaced: (set, get, ours, theirs). disable()
# puts theirs back, but only where ours is still in place.
_thread_hooks = []


def _tool_dirs():
    """Where the recorder's own code lives: never traced (a trace shows the
    program, not the tool)."""
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [here, os.path.join(os.path.dirname(here), "etwtrace")]
    return sorted(set(dirs) | {os.path.realpath(d) for d in dirs})


def default_hook(include=(), exclude=()):
    """The hook backend used when none is named: the cheapest one that is
    exact on this interpreter (every call recorded, the program unchanged).

    3.12+: sys.monitoring. It sees every frame start, including the ones
    CPython inlines or specialises, and leaves inlining and the C recursion
    budget as they are untraced; code a filter excludes runs at full speed.
    3.11.0-3.11.3: setprofile. Their specialised __getitem__ calls skip
    PEP 523 hooks (CPython gh-104405, fixed in 3.11.4).
    Otherwise (3.9, 3.10, 3.11.4+): the PEP 523 eval-frame hook.
    (include and exclude no longer change the choice.)
    """
    del include, exclude
    if sys.version_info >= (3, 12):
        return "monitoring"
    if _getitem_skips_eval_frame():
        return "setprofile"
    return "eval-frame"


def _getitem_skips_eval_frame():
    """True on CPython 3.11.0-3.11.3 (gh-104405)."""
    return (3, 11, 0) <= tuple(sys.version_info[:3]) < (3, 11, 4)


def hook_caveat(hook):
    """One line on what `hook` ("eval-frame", "stack", ...) cannot do
    exactly on this interpreter, or None when it is exact."""
    v = "CPython %d.%d.%d" % tuple(sys.version_info[:3])
    what = "stack mode" if hook == "stack" else "--hook %s" % hook
    if hook in ("eval-frame", "stack") and _getitem_skips_eval_frame():
        return ("%s: %s skips PEP 523 hooks on specialised __getitem__ "
                "calls (gh-104405, fixed in 3.11.4): %s misses those calls"
                % (what, v, "it" if hook != "stack" else "their frames"))
    if hook in ("eval-frame", "stack") and sys.version_info >= (3, 12):
        return ("%s on %s is a PEP 523 hook: recursion through C code (map, "
                "sorted, callbacks) can go deeper before RecursionError than "
                "untraced, and sys.settrace sees async for's "
                "StopAsyncIteration once more (as under -X perf); the default "
                "hook changes neither" % (what, v))
    return None


_caveat_said = False


def _say_caveat(hook, quiet):
    global _caveat_said
    caveat = hook_caveat(hook)
    if (caveat is None or quiet or _caveat_said
            or os.environ.get("TRACESTORE_CHILD_OF")):
        return
    _caveat_said = True
    print("tracestore: note: %s" % caveat, file=sys.stderr)


def stdlib_dirs():
    """(excluded, kept): the interpreter's library directories, and the
    site-packages directories inside them that --exclude-stdlib keeps."""
    import sysconfig
    paths = sysconfig.get_paths()
    excluded = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib")}
    excluded |= {paths[k] for k in ("stdlib", "platstdlib")}
    kept = {paths[k] for k in ("purelib", "platlib")}
    kept |= {os.path.realpath(p) for p in kept}
    return sorted(excluded), sorted(kept)


def new_trace_name(stem=None, directory="."):
    """A trace name that does not exist yet, in `directory`."""
    stem = stem or "python"
    base = "%s-%s-%d" % (stem, time.strftime("%Y%m%d-%H%M%S"), os.getpid())
    name, n = base + ".trace", 1
    while os.path.exists(os.path.join(directory, name)):
        n += 1
        name = "%s-%d.trace" % (base, n)
    return os.path.join(directory, name)


def _prefixes_property(prefixes):
    """A filter's prefixes for the trace header, whose properties hold at
    most 60 KiB: a long list is cut, with the count."""
    text = "\n".join(prefixes)
    if len(text) <= 16384:
        return text
    head = "\n".join(prefixes[:200])
    return "%s\n... (%d prefixes in all)" % (head, len(prefixes))


def enable(output=None, include=(), exclude=(), with_threads=True,
           lines=False, *, exclude_stdlib=False, hook=None, c_calls=False,
           properties=None, quiet=False, etw=False, mode="instrumented",
           perf_files=True):
    """Starts recording into a new trace; returns its path.

    mode="instrumented" records every call and return. mode="stack" records
    none: each traced function runs through its own native trampoline, so
    native stack samplers (perf, ETW/WPA) show one frame per Python
    function; the trace keeps each function's trampoline address range,
    marks and threads. With perf_files (stack mode), /tmp/perf-<pid>.map and
    /tmp/jit-<pid>.dump name the trampolines for perf.

    include/exclude are module-name prefixes ("myapp" matches myapp and
    myapp.core, never myappx); exclude wins; no include means everything.
    etw=True also emits python-etwtrace's events (ETW on Windows,
    user_events on Linux; where neither exists it says so once and records
    the trace alone); etw="capture" keeps them in memory for tests.
    """
    global _atexit_registered
    if isinstance(include, str):
        include = [include]
    if isinstance(exclude, str):
        exclude = [exclude]
    include, exclude = list(include or ()), list(exclude or ())
    output = output or new_trace_name()
    if mode == "stack":
        if hook not in (None, "stack"):
            raise ValueError("hook=%r is for instrumented mode; stack mode "
                             "has its own" % hook)
        hook = "stack"
    elif mode != "instrumented":
        raise ValueError("mode must be 'instrumented' or 'stack', not %r"
                         % (mode,))
    hook = hook or default_hook()
    _say_caveat(hook, quiet)
    excluded_dirs, kept_dirs = stdlib_dirs() if exclude_stdlib else ([], [])
    props = {
        "command_line": " ".join(getattr(sys, "orig_argv", sys.argv)),
        "interpreter": "CPython %s" % sys.version.split()[0],
        "include": _prefixes_property(include),
        "exclude": _prefixes_property(exclude),
        "hook": hook,
        "mode": "stack" if hook == "stack" else "instrumented",
        "created_by": "tracestore (Python)",
        # The process tree (docs/FORMAT.md): the OS parent, always.
        "parent_pid": str(os.getppid()),
    }
    if properties:
        props.update(properties)
    _tracestore.start(
        os.fspath(output), include=include, exclude=exclude,
        exclude_dirs=excluded_dirs, keep_dirs=kept_dirs, hook=hook,
        with_threads=with_threads, lines=lines, c_calls=c_calls,
        properties=props, quiet=quiet, etw=etw, perf_files=perf_files,
        tool_dirs=_tool_dirs())
    # What runs from here on is the tool's, not the program's.
    was_quiet = _tracestore._quiet(True)
    try:
        if hook == "setprofile":
            _set_thread_hook("setprofile", "_profile_hook",
                             _tracestore._thread_profile_bootstrap)
        if lines and sys.version_info < (3, 12):
            _set_thread_hook("settrace", "_trace_hook",
                             _tracestore._thread_trace_bootstrap)
        if not _atexit_registered:
            atexit.register(_close_at_exit)
            if hasattr(os, "register_at_fork"):
                os.register_at_fork(
                    after_in_child=_tracestore._abandon_in_child)
            _atexit_registered = True
        return os.fspath(output)
    finally:
        _tracestore._quiet(was_quiet)


def _set_thread_hook(setter, attribute, ours):
    import threading
    theirs = getattr(threading, attribute, None)  # getprofile() is 3.10+
    getattr(threading, setter)(ours)
    _thread_hooks.append((setter, attribute, ours, theirs))


def disable():
    """Stops recording and closes the trace (no-op when not recording).

    Hooks of other tools stay as they are: the threading hooks enable()
    replaced are put back (unless someone replaced ours meanwhile), and
    nothing else of sys or threading is touched.
    """
    if _tracestore.is_active():
        was_quiet = _tracestore._quiet(True)  # the tool's code from here
        try:
            if _thread_hooks:
                import threading
                while _thread_hooks:
                    setter, attribute, ours, theirs = _thread_hooks.pop()
                    if getattr(threading, attribute, None) is ours:
                        getattr(threading, setter)(theirs)
            _tracestore.stop()
        finally:
            _tracestore._quiet(was_quiet)


def _close_at_exit():
    try:
        disable()
    except Exception as e:  # never hide the program's own exit status
        print("tracestore: closing the trace failed: %s" % e, file=sys.stderr)


def is_active():
    """True while a trace is being recorded."""
    return _tracestore.is_active()


def trace_path():
    """The path of the trace being recorded, or None."""
    return _tracestore.trace_path()


def env_enabled(var):
    """True when environment variable `var` is set and not 0/no/false/off."""
    value = os.environ.get(var)
    return value is not None and value.strip().lower() not in _FALSE


def env_enabled_source(var):
    """The same test as Python source, for a .pth line (which may not import
    this package unless the test passes)."""
    return "os.environ.get(%r, '').strip().lower() not in %r" % (var, _FALSE)


def _enable_if_at_startup(var):
    """enable_if(var) from the .pth file `--enable` writes: that runs inside
    the interpreter's start-up (site), which is not the program, so this
    thread records from the program's first line on (see
    _tracestore._quiet_until_main)."""
    if not env_enabled(var):
        return False
    _tracestore._quiet_until_main()
    return enable_if(var)


def enable_if(var, **kwargs):
    """enable(**kwargs) when environment variable `var` is set and not
    0/no/false/off; returns whether tracing started."""
    if not env_enabled(var):
        return False
    enable(**kwargs)
    return True


class tracing:
    """Records the body of the with-statement; `as` gives the trace path."""

    def __init__(self, output=None, include=(), exclude=(), with_threads=True,
                 lines=False, **kwargs):
        self._args = (output, include, exclude, with_threads, lines)
        self._kwargs = kwargs

    def __enter__(self):
        return enable(*self._args, **self._kwargs)

    def __exit__(self, *exc):
        disable()
        return False


def mark(name):
    """Records a point mark on the current thread."""
    _tracestore.mark(str(name))


def mark_stack(name):
    """A point mark that also raises a PythonStackSample ETW event."""
    _tracestore.mark(str(name), "stack")


class mark_range:
    """Records start and stop marks around the body of the with-statement."""

    def __init__(self, name):
        self._name = str(name)

    def __enter__(self):
        _tracestore.mark(self._name, "start")

    def __exit__(self, *exc):
        _tracestore.mark(self._name, "stop")
        return False
