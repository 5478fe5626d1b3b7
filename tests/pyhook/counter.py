"""A sys.settrace counter: the reference the recorder's counts must equal.

settrace sees every Python frame entry ('call', including each resume of a
generator) and exit ('return', including yields and exceptions); the local
tracer turns line events off. This module is excluded from the trace.
"""

import sys
import threading

from support import code_key


class Counter:
    def __init__(self):
        # Plain dicts: a collections.Counter would run Python code
        # (__missing__) inside the trace function, which the recorder sees.
        self.entries = {}
        self.pairs = {}
        self._stacks = threading.local()

    def _stack(self):
        s = getattr(self._stacks, "s", None)
        if s is None:
            s = self._stacks.s = []
        return s

    def _global(self, frame, event, arg):
        if event == "call":
            key = code_key(frame.f_code)
            stack = self._stack()
            self.entries[key] = self.entries.get(key, 0) + 1
            pair = (stack[-1] if stack else None, key)
            self.pairs[pair] = self.pairs.get(pair, 0) + 1
            stack.append(key)
            frame.f_trace_lines = False
            return self._local
        return None

    def _local(self, frame, event, arg):
        if event == "return":
            stack = self._stack()
            if stack:
                stack.pop()
        return self._local

    def start(self):
        threading.settrace(self._global)
        sys.settrace(self._global)

    def stop(self):
        sys.settrace(None)
        threading.settrace(None)
