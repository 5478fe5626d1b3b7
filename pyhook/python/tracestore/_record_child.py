"""Recording inside the program started by `record` (see _launch.py)."""

import os
import sys

# The C module: `signal` imports enum (and functools, collections, ...),
# milliseconds on the start-up of every recorded program.
import _signal as signal

from . import _launch, _session, _tracestore


def start(raw_config):
    """Starts recording; raw_config is TRACESTORE_RECORD_CONFIG's value."""
    try:
        cfg, config_file = _launch.read_config(raw_config)
    except (OSError, ValueError) as e:
        print("tracestore: cannot read the recording settings: %s" % e,
              file=sys.stderr)
        sys.stderr.flush()
        os._exit(2)
    stale = os.environ.pop("TRACESTORE_PREEXEC_MAPS", "")
    if stale:
        _tracestore._cover_stale_mappings(stale)
    output = cfg["output"]
    traced_parent = os.environ.get("TRACESTORE_CHILD_OF")
    if traced_parent:
        # A child process of a traced program (--follow-children): its trace
        # goes inside the parent's trace directory.
        output = os.path.join(output, "child-%d.trace" % os.getpid())
    # We run inside the interpreter's start-up (sitecustomize): record
    # nothing on this thread until the program's own code starts.
    _tracestore._quiet_until_main()
    _enable(cfg, output, traced_parent)
    if config_file is not None and not os.environ.get("TRACESTORE_CHILD_OF"):
        # Large settings: from beside the trace into it, where children
        # find them (and nothing is left behind beside it).
        moved = os.path.join(output, _launch.CONFIG_FILE_IN_TRACE)
        os.replace(config_file, moved)
        raw_config = "@" + moved
    if cfg.get("follow_children"):
        os.environ["TRACESTORE_RECORD_CONFIG"] = raw_config
        os.environ["TRACESTORE_CHILD_OF"] = str(os.getpid())
        here = os.path.dirname(os.path.abspath(__file__))
        path = os.environ.get("PYTHONPATH")
        os.environ["TRACESTORE_SAVED_PYTHONPATH"] = path if path else "\0"
        os.environ["PYTHONPATH"] = os.pathsep.join(
            [os.path.join(here, "_bootstrap"), os.path.dirname(here)]
            + ([path] if path else []))
        # Forked children (multiprocessing's fork start method) run no
        # start-up code: start their own trace right after the fork (the
        # parent's session was already dropped in the child).
        os.register_at_fork(after_in_child=lambda: _start_forked(cfg))
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)


def _start_forked(cfg):
    was_quiet = _tracestore._quiet(True)  # the tool's code, in the child
    try:
        _start_forked_quietly(cfg)
    finally:
        _tracestore._quiet(was_quiet)


def _start_forked_quietly(cfg):
    # The parent that forked us is traced: it is the nearest traced ancestor.
    _enable(cfg, os.path.join(cfg["output"], "child-%d.trace" % os.getpid()),
            str(os.getppid()))
    # Our own children hang under us, not under the process we forked from.
    os.environ["TRACESTORE_CHILD_OF"] = str(os.getpid())
    # multiprocessing's children leave through os._exit after running its
    # finalizers, not atexit: close the trace among them. (Its child start-up
    # clears the finalizers registered before it, so register from one of
    # its after-fork callbacks, which run after that.)
    mp_util = sys.modules.get("multiprocessing.util")
    if mp_util is not None:
        mp_util.register_after_fork(_closer, lambda _: mp_util.Finalize(
            None, _session.disable, exitpriority=-100))


class _Closer:
    """A target for multiprocessing.util.register_after_fork (it keeps only
    a weak reference)."""


_closer = _Closer()


def _enable(cfg, output, traced_parent=None):
    # traced_parent: the pid of the nearest traced ancestor (a child's trace
    # says where it hangs in the process tree, even through `sh -c`).
    props = {}
    if traced_parent:
        props["traced_parent_pid"] = traced_parent
    if cfg.get("follow_children"):
        # Readers show the process of each row even before a child starts.
        props["follow_children"] = "1"
    try:
        _session.enable(
            output, cfg["include"], cfg["exclude"], cfg["with_threads"],
            cfg["lines"], exclude_stdlib=cfg["exclude_stdlib"],
            hook=cfg["hook"], c_calls=cfg["c_calls"], quiet=cfg["quiet"],
            etw=cfg.get("etw", False), mode=cfg.get("mode", "instrumented"),
            perf_files=cfg.get("perf_files", True),
            max_size=cfg.get("max_size"),
            include_paths=cfg.get("include_paths", ()),
            exclude_paths=cfg.get("exclude_paths", ()), properties=props)
        if cfg.get("snapshot_signal"):
            _session.snapshot_on_signal(cfg["snapshot_signal"], cfg["quiet"])
    except Exception as e:
        if _disk_full(e):
            # A full disk is no reason to keep the program from running: it
            # runs untraced, with this one message (the trace's header says
            # it never started).
            print("tracestore: cannot record: %s; running the program "
                  "untraced" % e, file=sys.stderr)
            sys.stderr.flush()
            return
        print("tracestore: cannot record: %s" % e, file=sys.stderr)
        sys.stderr.flush()
        os._exit(2)


def _disk_full(e):
    """Whether starting the trace failed for want of disk space."""
    import errno
    return isinstance(e, OSError) and any(
        os.strerror(n) in str(e) for n in (errno.ENOSPC, errno.EDQUOT))


def _on_sigterm(signum, frame):
    # Close the trace, then die of SIGTERM as the program would have.
    _tracestore._quiet(True)
    try:
        _session.disable()
        # The process dies of the signal, not through exit(): say so.
        _tracestore._record_signal_end(signum)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
