"""Calls the recorder must not miss: code that CPython has specialised
before tracing starts, and code it specialises while tracing runs.

    python warm_workload.py late-oracle OUT.json   # warm up, then count with
                                                   # a sys.setprofile counter
    python warm_workload.py late-trace TRACE [HOOK] # warm up, then record
    python warm_workload.py start-oracle OUT.json  # count from process start
    python warm_workload.py start                  # run (under `record`)

Each run counts only what happens between the calls of phase_begin() and
phase_end() on the main thread, so the recorder's trace and the
independent counter (a separate run under sys.setprofile) cover the same
calls. setprofile's 'call' covers a first entry and every resume of a
generator or coroutine: the trace's 'call' plus 'resume'.
"""

import json
import re
import sys

WARM_UP = 3000   # enough for every interpreter to specialise every site
MEASURED = 1000


class P:
    def __init__(self, x):
        self.x = x


class Sub(P):   # inherits P.__init__
    pass


class Chain(P):
    def __init__(self, x):
        super().__init__(x + 1)


class Slotted:
    __slots__ = ("a",)

    def __init__(self, a):
        self.a = a


class Box:
    def __init__(self):
        self._v = 0
        self.data = list(range(8))

    @property
    def value(self):
        return self._v

    @value.setter
    def value(self, v):
        self._v = v

    def __getitem__(self, i):
        return self.data[i % 8]

    def __setitem__(self, i, v):
        self.data[i % 8] = v

    def __call__(self, x):
        return x + 1

    def __len__(self):
        return 8

    def __getattr__(self, name):
        return name

    def __eq__(self, other):
        return other is self

    __hash__ = object.__hash__

    @classmethod
    def cm(cls, x):
        return x

    @staticmethod
    def sm(x):
        return x


class Countdown:
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return self

    def __next__(self):
        if self.n == 0:
            raise StopIteration
        self.n -= 1
        return self.n


class Desc:
    def __get__(self, obj, owner=None):
        return 7


class HasDesc:
    d = Desc()


def make_adder(k):
    def add(x):
        return x + k
    return add


def gen(n):
    for i in range(n):
        yield i


async def inner():
    return 1


async def coro():
    return await inner() + 1


def run_coro():
    c = coro()
    try:
        c.send(None)
    except StopIteration as stop:
        return stop.value


def key(x):
    return -x


def work(n):
    b = Box()
    add = make_adder(2)
    total = 0
    for i in range(n):
        total += P(i).x + Sub(i).x + Chain(i).x + Slotted(i).a
        total += b.value
        b.value = i
        total += b[i]
        b[i] = i
        total += b(i) + add(i) + Box.cm(i) + Box.sm(i) + len(b)
        total += len(b.missing) + (b == b)
        total += sum(gen(3))
        for x in gen(2):
            total += x
        for x in Countdown(2):
            total += x
        total += HasDesc().d
        total += run_coro()
        total += sum(map(add, (1, 2)))
        total += sorted((3, 1, 2), key=key)[0]
    return total


def fresh_work(n):
    """New classes and new regular expressions: code and call sites that
    nothing ran before."""
    total = 0
    for i in range(n):
        cls = type("T%d" % i, (P,), {"__init__": P.__init__})
        total += cls(i).x
        total += len(re.compile("a{%d}b[c-%s]|x(?P<g%d>y)" % (
            i % 7 + 1, "def"[i % 3], i)).pattern)
    return total + work(n // 10)


def phase_begin():
    pass


def phase_end():
    pass


class Oracle:
    """Counts 'call' events per code object between phase_begin and
    phase_end, on the main thread (sys.setprofile is per thread)."""

    def __init__(self):
        self.counts = {}
        self.on = False

    def __call__(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        if code is phase_begin.__code__:
            self.on = True
        elif code is phase_end.__code__:
            self.on = False
        elif self.on:
            name = code.co_qualname if sys.version_info >= (3, 11) else code.co_name
            k = "%s:%d:%s" % (code.co_filename, code.co_firstlineno, name)
            self.counts[k] = self.counts.get(k, 0) + 1

    def dump(self, path):
        with open(path, "w") as f:
            json.dump(self.counts, f)


def main(argv):
    mode = argv[0]
    if mode.startswith("late"):
        for _ in range(WARM_UP // 100):
            work(100)
    if mode == "late-oracle" or mode == "start-oracle":
        oracle = Oracle()
        sys.setprofile(oracle)
    if mode == "late-trace":
        import tracestore
        hook = argv[2] if len(argv) > 2 else None
        with tracestore.tracing(argv[1], hook=hook, quiet=True):
            phase_begin()
            work(MEASURED)
            phase_end()
        return 0
    phase_begin()
    if mode.startswith("late"):
        work(MEASURED)
    else:
        fresh_work(200)
    phase_end()
    if mode.endswith("oracle"):
        sys.setprofile(None)
        oracle.dump(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
