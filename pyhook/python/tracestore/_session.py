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


def check_module_prefixes(prefixes, option="include"):
    """Raises ValueError for a module prefix that cannot name a module: a
    glob ('jinja2.*'), a path ('jinja2/', 'src/app.py'), spaces. A prefix is
    a dotted module name ('jinja2' already matches jinja2.ext); a trailing
    dot is allowed."""
    for p in prefixes:
        name = p[:-1] if p.endswith(".") else p
        if name and all(part.isidentifier() for part in name.split(".")):
            continue
        if "*" in p or "?" in p or "[" in p:
            why = ("no wildcards: %r already matches the module and every "
                   "module below it" % name.rstrip(".*?["))
        elif "/" in p or "\\" in p or p.endswith(".py"):
            why = ("a file path, not a module name: use --%s-path for files"
                   % option)
        else:
            why = "a module prefix is a dotted name such as 'pkg.sub'"
        raise ValueError("%s prefix %r is not a module name (%s)"
                         % (option, p, why))


def normalise_paths(paths):
    """--include-path/--exclude-path values as the recorder compares them
    with co_filename: absolute, and also resolved when that differs.
    '<string>' and other pseudo-file names are kept as given."""
    out = []
    for p in paths:
        if not p:
            raise ValueError("an empty path would match every file")
        if p.startswith("<"):
            out.append(p)
            continue
        a = os.path.abspath(p)
        out.append(a)
        r = os.path.realpath(a)
        if r != a:
            out.append(r)
    return out


def _with_parents(names, sep):
    """Every name and each of its parents at a separator (jinja2 and
    jinja2.ext for jinja2.ext): a prefix matches a name iff it is one."""
    out = set()
    for n in names:
        parts = n.split(sep)
        for k in range(1, len(parts) + 1):
            out.add(sep.join(parts[:k]))
    return out


def unmatched_includes(include, include_paths, modules, files, limit=20):
    """Lines saying which include prefixes matched none of the modules (or
    files) that ran, each with the nearest names seen; [] when all did.
    At most `limit` lines, then one saying how many more."""
    lines, more = [], 0
    for prefixes, names, sep, what in (
            (include, modules, ".", "-i"),
            (include_paths, files, "/", "--include-path")):
        names = [n for n in names if n]
        if not prefixes:
            continue
        known = _with_parents(names, sep)
        lowered = None
        for p in prefixes:
            if (p.rstrip(sep) or p) in known:
                continue
            if len(lines) == limit:
                more += 1
                continue
            if lowered is None:
                lowered = {}
                for c in sorted(known):
                    lowered.setdefault(c.lower(), c)
            lines.append("%s %s matched no %s that ran%s" % (
                what, p, "module" if sep == "." else "file",
                _nearest(p, names, sep, lowered)))
    if more:
        lines.append("... and %d more includes that matched nothing" % more)
    return lines


def _nearest(prefix, names, sep, lowered):
    """The closest of the names seen (and their parents), compared without
    regard to case; `lowered` maps their lower case to them."""
    import difflib
    key = prefix.rstrip(sep).lower()
    close = difflib.get_close_matches(key, list(lowered), n=3, cutoff=0.6)
    if sep == "/" and not close:
        base = os.path.basename(prefix.rstrip("/")).lower()
        close = [c for c in lowered if os.path.basename(c) == base][:3]
    if not close:
        return " (%d %s seen)" % (len(names),
                                  "modules" if sep == "." else "files")
    return "; nearest: " + ", ".join(lowered[c] for c in close)


# The include lists of the running session, for the end-of-recording check.
_includes = None


def _prefixes_property(prefixes):
    """A filter's prefixes for the trace header, whose properties hold at
    most 60 KiB: a long list is cut, with the count."""
    text = "\n".join(prefixes)
    if len(text) <= 16384:
        return text
    head = "\n".join(prefixes[:200])
    return "%s\n... (%d prefixes in all)" % (head, len(prefixes))


_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30,
               "T": 1 << 40}
# The smallest flight-recorder budget (TraceOptions: kMinMaxEventBytes).
MIN_MAX_SIZE = 4 << 20


def parse_size(value):
    """Bytes from an int or a text like "512M", "4G", "1.5g", "300MiB"
    (binary units: K = 1024); None stays None. ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a size must be a number of bytes or a text such "
                         "as 512M, not %r" % (value,))
    if isinstance(value, int):
        n = value
    else:
        text = str(value).strip().upper()
        for suffix in ("IB", "B"):
            if text.endswith(suffix) and len(text) > len(suffix):
                text = text[:-len(suffix)]
                break
        unit = text[-1:] if text[-1:] in _SIZE_UNITS and text[-1:] else ""
        number = text[:-1] if unit else text
        try:
            n = int(float(number) * _SIZE_UNITS[unit]) if number else -1
        except ValueError:
            n = -1
        if n < 0 or number.startswith(("-", "+")) or "E" in number \
                or "N" in number:
            raise ValueError("bad size %r: give bytes or a number with K, M, "
                             "G or T (binary units), e.g. 512M" % (value,))
    if n < MIN_MAX_SIZE:
        raise ValueError("max_size %r is below the smallest budget, 4M"
                         % (value,))
    return n


def enable(output=None, include=(), exclude=(), with_threads=True,
           lines=False, *, exclude_stdlib=False, hook=None, c_calls=False,
           properties=None, quiet=False, etw=False, mode="instrumented",
           perf_files=True, max_size=None, include_paths=(),
           exclude_paths=()):
    """Starts recording into a new trace; returns its path.

    max_size (bytes, or a text such as "512M" or "4G") makes it a flight
    recorder: the trace's event files never hold more than that, and
    recording keeps each thread's newest events, however long it runs
    (README: "Flight recorder"). snapshot() copies the current window out.

    mode="instrumented" records every call and return. mode="stack" records
    none: each traced function runs through its own native trampoline, so
    native stack samplers (perf, ETW/WPA) show one frame per Python
    function; the trace keeps each function's trampoline address range,
    marks and threads. With perf_files (stack mode), /tmp/perf-<pid>.map and
    /tmp/jit-<pid>.dump name the trampolines for perf.

    include/exclude are module-name prefixes ("myapp" matches myapp and
    myapp.core, never myappx); exclude wins; no include means everything.
    include_paths/exclude_paths do the same for source files (directories
    or files, at a '/' boundary): the way to select code without a module
    name (exec'd code, Jinja templates). Code is traced when its module or
    its file is included (or nothing is) and neither is excluded. When the
    recording ends, an include that matched nothing that ran is reported
    on stderr with the nearest names seen (unless quiet).
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
    check_module_prefixes(include, "include")
    check_module_prefixes(exclude, "exclude")
    if isinstance(include_paths, str):
        include_paths = [include_paths]
    if isinstance(exclude_paths, str):
        exclude_paths = [exclude_paths]
    include_paths = normalise_paths(include_paths or ())
    exclude_paths = normalise_paths(exclude_paths or ())
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
    max_size = parse_size(max_size)
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
    if max_size:
        props["max_size"] = str(max_size)
    for key, paths in (("include_paths", include_paths),
                       ("exclude_paths", exclude_paths)):
        if paths:
            props[key] = _prefixes_property(paths)
    if properties:
        props.update(properties)
    _tracestore.start(
        os.fspath(output), include=include, exclude=exclude,
        exclude_dirs=excluded_dirs, keep_dirs=kept_dirs, hook=hook,
        with_threads=with_threads, lines=lines, c_calls=c_calls,
        properties=props, quiet=quiet, etw=etw, perf_files=perf_files,
        tool_dirs=_tool_dirs(), max_size=max_size or 0,
        include_paths=include_paths, exclude_paths=exclude_paths)
    global _includes
    _includes = (include, include_paths, quiet) if (
        include or include_paths) else None
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
            global _includes
            check, _includes = _includes, None
            seen = _tracestore._seen() if check else None
            _tracestore.stop()
            if check and seen:
                _say_unmatched(check, seen)
        finally:
            _tracestore._quiet(was_quiet)


def _say_unmatched(check, seen):
    include, include_paths, quiet = check
    if quiet or os.environ.get("TRACESTORE_CHILD_OF"):
        return
    for line in unmatched_includes(include, include_paths, *seen):
        print("tracestore: warning: %s" % line, file=sys.stderr)


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


_snapshots_taken = 0


def snapshot(output=None):
    """Copies the active trace's current window (a flight recorder's last
    minutes, say) into a new, normal trace; returns its path. The default
    name is <trace>-snapshot-<N>. The program goes on recording meanwhile;
    this thread's own work is not traced."""
    global _snapshots_taken
    source = _tracestore.trace_path()
    if source is None:
        raise RuntimeError("tracestore.snapshot(): no trace is being recorded")
    if output is None:
        while True:
            _snapshots_taken += 1
            output = "%s-snapshot-%d" % (source.rstrip("/"), _snapshots_taken)
            if not os.path.exists(output):
                break
    output = os.fspath(output)
    was_quiet = _tracestore._quiet(True)
    try:
        _tracestore.snapshot(source, output)
    finally:
        _tracestore._quiet(was_quiet)
    return output


def parse_signal(name):
    """A signal number from "USR2", "SIGUSR2" or "12"; ValueError else."""
    import signal
    text = str(name).strip().upper()
    if text.isdigit():
        number = int(text)
    else:
        if not text.startswith("SIG"):
            text = "SIG" + text
        number = getattr(signal, text, None)
        if not isinstance(number, int) or text.startswith("SIG_"):
            raise ValueError("unknown signal %r" % (name,))
    if number in (signal.SIGKILL, signal.SIGSTOP) or not (
            0 < number < signal.NSIG):
        raise ValueError("signal %r cannot be caught" % (name,))
    return number


def snapshot_on_signal(signum, quiet=False):
    """Takes a snapshot() each time the process receives `signum` (e.g.
    signal.SIGUSR2): `kill -USR2 PID` keeps the window at that moment."""
    import signal

    def _handler(number, frame):
        try:
            path = snapshot()
            if not quiet:
                print("tracestore: snapshot in %s" % path, file=sys.stderr)
        except Exception as e:  # a signal must not kill the program
            print("tracestore: snapshot failed: %s" % e, file=sys.stderr)

    signal.signal(parse_signal(signum) if not isinstance(signum, int)
                  else signum, _handler)


def _enable_if_at_startup(var, max_size=None):
    """enable_if(var) from the .pth file `--enable` writes: that runs inside
    the interpreter's start-up (site), which is not the program, so this
    thread records from the program's first line on (see
    _tracestore._quiet_until_main)."""
    if not env_enabled(var):
        return False
    _tracestore._quiet_until_main()
    return enable_if(var, max_size=max_size)


def enable_if(var, **kwargs):
    """enable(**kwargs) when environment variable `var` is set and not
    0/no/false/off; returns whether tracing started. Without max_size,
    $TRACESTORE_MAX_SIZE (e.g. 512M) makes it a flight recorder."""
    if not env_enabled(var):
        return False
    if kwargs.get("max_size") is None and os.environ.get("TRACESTORE_MAX_SIZE"):
        kwargs["max_size"] = os.environ["TRACESTORE_MAX_SIZE"]
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
