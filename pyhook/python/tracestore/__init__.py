"""tracestore: record Python programs into memory-mapped trace stores.

    import tracestore

    with tracestore.tracing("run.trace", include=["myapp"]):
        myapp.main()

    tracestore.enable(include=["myapp"])      # or start/stop by hand
    tracestore.mark("phase 1")
    with tracestore.mark_range("load"):
        load()
    tracestore.disable()

Query the result with ``python -m tracestore query run.trace "SELECT ..."``
or from the sqlite3 shell (see README.md).
"""

# This file must parse on any Python (even 2.7), so that an unsupported
# interpreter gets this message rather than a syntax error.
import sys as _sys

from . import _supported  # noqa: E402

if not (_supported.OLDEST <= tuple(_sys.version_info[:2]) <= _supported.NEWEST):
    raise ImportError("tracestore supports %s; this is Python %d.%d"
                      % ((_supported.describe(),) + tuple(_sys.version_info[:2])))
if _sys.implementation.name != "cpython":
    raise ImportError("tracestore supports %s; this is %s"
                      % (_supported.describe(), _sys.implementation.name))
try:
    from . import _tracestore
except ImportError as _e:  # built for other interpreters only
    _message = (
        "tracestore has no native extension for CPython %d.%d here (%s); "
        "rebuild with this interpreter installed"
        % (_sys.version_info[0], _sys.version_info[1], _e))
    _e = None
    raise ImportError(_message)

from ._session import (  # noqa: E402
    default_hook,
    disable,
    enable,
    enable_if,
    is_active,
    mark,
    mark_range,
    mark_stack,
    snapshot,
    trace_path,
    tracing,
)

__all__ = [
    "default_hook", "disable", "enable", "enable_if", "is_active", "mark",
    "mark_range", "mark_stack", "snapshot", "trace_path", "tracing",
]
