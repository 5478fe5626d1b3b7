"""The CPython versions tracestore supports, said once for the whole project.

The build (cmake/pythons.cmake, which also generates the C header the
extension checks), the package's import check, the wheel's
Requires-Python (tools/pep517), the tests and the benchmarks all read these
two lines; change the range here and nowhere else. This file must parse on
any Python, even 2.7.
"""

OLDEST = (3, 9)
NEWEST = (3, 15)


def describe():
    return "CPython %d.%d to %d.%d" % (OLDEST + NEWEST)


def minors():
    """Every supported (major, minor)."""
    return [(3, m) for m in range(OLDEST[1], NEWEST[1] + 1)]
