"""Starts recording for `python -m tracestore record` (see _launch.py).

Runs at interpreter start-up, before the program. It restores the
environment and sys.path the program would have had, starts tracing, and
then runs the sitecustomize this one shadows, if there is one.
"""


def _tracestore_bootstrap():
    import os
    import sys

    here = os.path.dirname(os.path.abspath(__file__))
    config = os.environ.pop("TRACESTORE_RECORD_CONFIG", None)
    saved = os.environ.pop("TRACESTORE_SAVED_PYTHONPATH", None)
    if saved is not None:
        if saved == "\0":
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]

    if config:
        from tracestore import _record_child
        _record_child.start(config)

    # Run the sitecustomize we shadow, if any. (find_spec answers from
    # sys.modules, which holds this module while it runs.)
    import importlib.util
    ours = sys.modules.pop("sitecustomize", None)
    spec = importlib.util.find_spec("sitecustomize")
    if spec is not None and spec.origin and os.path.dirname(spec.origin) != here:
        module = importlib.util.module_from_spec(spec)
        sys.modules["sitecustomize"] = module
        spec.loader.exec_module(module)
    elif ours is not None:
        sys.modules["sitecustomize"] = ours


_tracestore_bootstrap()
del _tracestore_bootstrap
