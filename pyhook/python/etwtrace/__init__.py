"""etwtrace: python-etwtrace's API and command line, over tracestore.

    import etwtrace
    with etwtrace.tracing(with_threads=False):
        run_code_under_test()

    tid = etwtrace.enable(with_threads=False)
    ...
    etwtrace.disable(tid)

    etwtrace.enable_if("USE_TRACING", with_threads=True)
    etwtrace.mark("checkpoint")          # also: custom_mark
    with etwtrace.mark_range("load"):
        load()

Events go to ETW as the "Python" provider (python-etwtrace's schema) on
Windows, to user_events in the EventHeader format on Linux where the kernel
offers it, and always into a tracestore trace (etwtrace-<time>-<pid>.trace
in the current directory, or the path in $ETWTRACE_OUTPUT) so the same run
can be queried with SQL.
"""

import contextlib
import os
import threading

import tracestore
from tracestore import _session

def _output():
    return os.environ.get("ETWTRACE_OUTPUT") or _session.new_trace_name("etwtrace")


def enable(with_threads=False, *, stack=False, **kwargs):
    """Starts tracing; returns the thread id, for disable(). stack=True
    runs each Python function through its own native trampoline so that
    ETW stack samples (or perf) show Python frames, and records no calls."""
    if stack:
        kwargs["mode"] = "stack"
    kwargs.setdefault("etw", True)
    kwargs.setdefault("quiet", True)
    _session.enable(_output(), with_threads=with_threads, **kwargs)
    return threading.get_ident()


def disable(tid=None):
    """Stops tracing (tid, from enable(), is accepted for compatibility)."""
    _session.disable()


def enable_if(enable_var, type_var=None, with_threads=True, **kwargs):
    """Enables tracing when $enable_var is set and not 0/no/false.
    $type_var may say 'instrumented' or 'stack' (the default). Returns the
    thread id, or None when tracing was not enabled."""
    if not _session.env_enabled(enable_var):
        return None
    kind = os.environ.get(type_var or (enable_var + "_TYPE"), "stack")
    return enable(with_threads=with_threads,
                  stack=kind.strip().lower() == "stack", **kwargs)


def is_active():
    return tracestore.is_active()


@contextlib.contextmanager
def tracing(with_threads=False, **kwargs):
    tid = enable(with_threads=with_threads, **kwargs)
    try:
        yield tid
    finally:
        disable(tid)


def mark(name):
    tracestore.mark(name)


custom_mark = mark


def mark_range(name):
    return tracestore.mark_range(name)


def _mark_stack(name):
    """Raises a PythonStackSample event (forces a stack sample in captures
    configured for it)."""
    _session.mark_stack(name)


_stack_mark = _mark_stack


def _pth_enable(enable_var, type_var):
    """Called by the etwtrace.pth that `python -m etwtrace --enable` writes."""
    if enable_var is None:
        kind = os.environ.get(type_var, "stack")
        return enable(with_threads=True, stack=kind.strip().lower() == "stack")
    return enable_if(enable_var, type_var)
