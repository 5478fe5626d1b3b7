"""Functions of every kind, for test_names.py: runs each, then writes the
qualified name CPython gives each function and class (by first line) to
argv[1], the oracle the trace's names must equal."""

import json
import sys


class Box:
    def get(self):
        return 1

    @staticmethod
    def sm():
        return 2

    @classmethod
    def cm(cls):
        return 3

    @property
    def p(self):
        return 4

    class Inner:
        def deep(self):
            return 5


def outer():
    def inner():
        return sum(x for x in range(2))
    return inner()


def make():
    class Local:
        def m(self):
            return 6
    return Local, Local().m()


lam = lambda: 7  # noqa: E731


def main():
    b = Box()
    b.get(), Box.sm(), Box.cm(), b.p, Box.Inner().deep(), outer(), lam()
    local, _ = make()
    oracle = {}
    for obj in (Box.get, Box.sm, Box.cm, Box.p.fget, Box.Inner.deep, outer,
                make, local.m, lam, main):
        oracle[obj.__code__.co_firstlineno] = obj.__qualname__
    for cls in (Box, Box.Inner, local):
        oracle[min(v.__code__.co_firstlineno for v in vars(cls).values()
                   if hasattr(v, "__code__")) - 1] = cls.__qualname__
    with open(sys.argv[1], "w") as f:
        json.dump(oracle, f)


main()
