"""Function names are the same on every interpreter: the qualified names
CPython itself gives (on 3.9/3.10, whose code objects have only co_name,
the recorder recovers them from the function objects)."""

import json
import os

from support import HERE, TempDirTest, Trace, record

WORKLOAD = os.path.join(HERE, "names_workload.py")


class QualifiedNames(TempDirTest):
    def test_names_equal_cpythons_qualnames(self):
        out, oracle = self.path("n.trace"), self.path("oracle.json")
        r = record(["-q", "-o", out, "-i", "__main__"], [WORKLOAD, oracle])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(oracle) as f:
            want = {int(k): v for k, v in json.load(f).items()}
        got = {f["line"]: f["name"] for f in Trace(out).data["functions"]
               if f["file"] == WORKLOAD}
        self.assertEqual({k: got.get(k) for k in want}, want)
        # the nested code CPython names too (a generator expression in a
        # closure, a lambda)
        self.assertIn("outer.<locals>.inner.<locals>.<genexpr>", got.values())
        self.assertIn("<lambda>", got.values())


if __name__ == "__main__":
    import unittest
    unittest.main()
