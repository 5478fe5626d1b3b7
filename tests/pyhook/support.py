"""Helpers for the recorder's tests: run programs traced, read traces back,
rebuild call stacks from events.

The tests run under every interpreter the build found (ctest runs this
directory once per interpreter with PYTHONPATH=build/python).
"""

import collections
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import tracestore
from tracestore import _tracestore

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable
VERSION = sys.version_info[:2]


def hooks():
    """Every backend this interpreter offers."""
    return list(_tracestore.hooks())


class TempDirTest(unittest.TestCase):
    """A test case with a fresh temporary directory in self.tmp."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tstest-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, *names):
        return os.path.join(self.tmp, *names)

    def write(self, name, text):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        return p


def env(**extra):
    """The environment for a child interpreter that can import tracestore."""
    e = dict(os.environ)
    e.update(extra)
    return e


def run(args, cwd=None, timeout=300, **kw):
    return subprocess.run(args, cwd=cwd, env=kw.pop("env", env()),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout, **kw)


def record(args, program, cwd=None, **kw):
    """python -m tracestore record ARGS -- PROGRAM..."""
    return run([PY, "-m", "tracestore", "record"] + list(args) + ["--"]
               + list(program), cwd=cwd, **kw)


def load(path):
    return _tracestore.load(path)


class Trace:
    """A loaded trace with helpers to count and rebuild calls."""

    def __init__(self, path):
        self.data = load(path)
        self.functions = {f["id"]: f for f in self.data["functions"]}
        self.threads = self.data["threads"]
        self.events = self.data["events"]

    def name(self, fid):
        return self.functions[fid]["name"] if fid in self.functions else None

    def key(self, fid):
        f = self.functions[fid]
        return (f["file"], f["line"], comparable_name(f["name"]))

    def entries(self, thread=None):
        """Counter of (function key) -> calls + resumes."""
        c = collections.Counter()
        for t, evs in enumerate(self.events):
            if thread is not None and t != thread:
                continue
            for _, kind, fid, _ in evs:
                if kind in ("call", "resume"):
                    c[self.key(fid)] += 1
        return c

    def kinds(self, name, thread=None):
        """The sequence of event kinds of the function called `name`."""
        out = []
        for t, evs in enumerate(self.events):
            if thread is not None and t != thread:
                continue
            out += [kind for _, kind, fid, _ in evs if self.name(fid) == name]
        return out

    def pairs(self):
        """Counter of (caller key or None, callee key) over all threads."""
        c = collections.Counter()
        for evs in self.events:
            stack = []
            for _, kind, fid, _ in evs:
                if kind in ("call", "resume"):
                    c[(stack[-1] if stack else None, self.key(fid))] += 1
                    stack.append(self.key(fid))
                elif kind in ("return", "unwind", "yield"):
                    if stack:
                        stack.pop()
        return c


def comparable_name(name):
    """A trace's function name as an oracle that sees only code objects can
    name it: the qualified name on 3.11+, the last part of it before (there
    code objects have only co_name; the recorder recovers the rest)."""
    return name if VERSION >= (3, 11) else name.rsplit(".", 1)[-1]


def code_key(code):
    name = code.co_qualname if VERSION >= (3, 11) else code.co_name
    return (code.co_filename, code.co_firstlineno, name)
