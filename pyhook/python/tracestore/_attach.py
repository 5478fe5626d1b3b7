"""`python -m tracestore attach PID` / `detach PID`: start and stop
recording inside a CPython 3.14+ process that is already running, through
sys.remote_exec (PEP 768), leaving the program running untouched.

The attaching side writes a small payload script and asks the target's
interpreter to run it; the target's main thread runs it at its next
bytecode boundary (after a blocking call returns, if it is in one). The
payload puts this package's directory at the front of sys.path only while
it imports it (so a target that does not have tracestore installed gets
this build, for its own version), starts or stops the session, and writes
its answer to a status file the attaching side waits for.
"""

import json
import os
import shutil
import signal
import sys
import tempfile
import time

MIN_VERSION = (3, 14)  # sys.remote_exec
WAIT_NOTE_AFTER = 1.0  # seconds before saying what attach is waiting for

PAYLOAD = r"""
import sys
_tracestore_dir = %(pkg_parent)r
_tracestore_added = _tracestore_dir not in sys.path
if _tracestore_added:
    sys.path.insert(0, _tracestore_dir)
try:
    from tracestore import _attach as _tracestore_attach
finally:
    if _tracestore_added and _tracestore_dir in sys.path:
        sys.path.remove(_tracestore_dir)
_tracestore_attach.%(action)s(%(config)r, %(status)r)
del _tracestore_dir, _tracestore_added, _tracestore_attach
"""

_attached = {}  # in the target: {"trace": path} while attach's session runs


# -- in the target (run by the payload) -----------------------------------

def _answer(status, **fields):
    tmp = status + ".tmp"
    with open(tmp, "w") as f:
        json.dump(fields, f)
    os.replace(tmp, status)


def on_attach(config, status):
    try:
        from . import _session
        if _session.is_active():
            _answer(status, error="already recording into %s"
                    % _session.trace_path())
            return
        cfg = json.loads(config)
        path = _session.enable(
            cfg["output"], cfg["include"], cfg["exclude"],
            cfg["with_threads"], cfg["lines"], hook=cfg["hook"],
            exclude_stdlib=cfg["exclude_stdlib"], c_calls=cfg["c_calls"],
            quiet=True, mode=cfg["mode"],
            include_paths=cfg.get("include_paths", ()),
            exclude_paths=cfg.get("exclude_paths", ()),
            properties={"attached_by": "tracestore attach"})
        _attached["trace"] = path
        import threading
        _answer(status, trace=path, threads=threading.active_count(),
                hook=_session.default_hook() if cfg["hook"] is None
                else cfg["hook"])
    except Exception as e:  # the program must not see it
        _answer(status, error="%s: %s" % (type(e).__name__, e))


def on_detach(config, status):
    try:
        from . import _session
        if "trace" not in _attached or not _session.is_active():
            _answer(status, error="not attached (no session started by "
                    "tracestore attach is recording)")
            return
        path = _attached.pop("trace")
        _session.disable()
        _answer(status, trace=path)
    except Exception as e:
        _answer(status, error="%s: %s" % (type(e).__name__, e))


# -- on the attaching side ------------------------------------------------

class AttachError(Exception):
    pass


def _check_target(pid):
    if sys.version_info[:2] < MIN_VERSION:
        raise AttachError("attach needs CPython %d.%d or later (sys.remote_exec, "
                          "PEP 768); this is %d.%d"
                          % (MIN_VERSION + tuple(sys.version_info[:2])))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        raise AttachError("no process %d" % pid)
    except PermissionError:
        raise AttachError("not allowed to attach to process %d" % pid)


def _remote_exec(pid, action, config, quiet, timeout=None):
    """Runs on_<action> in the target; returns its answer (a dict)."""
    tmp = tempfile.mkdtemp(prefix="tracestore-attach-")
    try:
        os.chmod(tmp, 0o755)
        status = os.path.join(tmp, "status.json")
        script = os.path.join(tmp, "payload.py")
        pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(script, "w") as f:
            f.write(PAYLOAD % {"pkg_parent": pkg_parent, "action": action,
                               "config": config, "status": status})
        os.chmod(script, 0o644)
        try:
            sys.remote_exec(pid, script)
        except (RuntimeError, OSError) as e:
            msg = str(e)
            if "not enabled" in msg:
                msg = ("remote debugging is disabled in process %d (it runs "
                       "with -X disable-remote-debug or "
                       "PYTHON_DISABLE_REMOTE_DEBUG)" % pid)
            elif "Can't send commands" in msg:
                msg = ("process %d runs another CPython version: attach with "
                       "that version's interpreter (%s)" % (pid, msg))
            raise AttachError(msg)
        start, said = time.monotonic(), False
        while not os.path.exists(status):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                raise AttachError("process %d exited before running the "
                                  "payload" % pid)
            waited = time.monotonic() - start
            if not said and not quiet and waited > WAIT_NOTE_AFTER:
                print("tracestore: waiting for process %d to run the payload: "
                      "its main thread runs it at its next bytecode boundary "
                      "(after the blocking call it is in returns)" % pid,
                      file=sys.stderr)
                said = True
            if timeout is not None and waited > timeout:
                raise AttachError("process %d did not run the payload within "
                                  "%g s" % (pid, timeout))
            time.sleep(0.01)
        with open(status) as f:
            answer = json.load(f)
        if "error" in answer:
            raise AttachError(answer["error"])
        return answer
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def attach(pid, config, duration=None, quiet=False):
    _check_target(pid)
    answer = _remote_exec(pid, "on_attach", json.dumps(config), quiet)
    if not quiet:
        print("tracestore: recording process %d (%d threads, hook %s) into %s"
              % (pid, answer["threads"], answer["hook"], answer["trace"]),
              file=sys.stderr)
    if duration is None:
        return 0
    try:
        time.sleep(duration)
    except KeyboardInterrupt:
        pass
    return detach(pid, quiet)


def detach(pid, quiet=False):
    _check_target(pid)
    # A detach must not be cut short by a second Ctrl-C.
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        answer = _remote_exec(pid, "on_detach", "{}", quiet)
    finally:
        signal.signal(signal.SIGINT, old)
    if not quiet:
        print("tracestore: detached from process %d; trace %s"
              % (pid, answer["trace"]), file=sys.stderr)
    return 0

