"""`record` onto a disk too full to start a trace (issue 14): the program
runs anyway, untraced, with one message on stderr, and the directory left
behind says the trace never started (not "closed").

Needs root to mount a small tmpfs (skipped otherwise) and a Python the
extension was built for (TRACED_PYTHON). Run by ctest with TRACESTORE_CLI,
TRACED_PYTHON and PYTHONPATH set.
"""

import os
import subprocess
import tempfile
import unittest

CLI = os.environ["TRACESTORE_CLI"]
PY = os.environ.get("TRACED_PYTHON", "")


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, **kw)


@unittest.skipUnless(PY, "no Python the extension was built for")
class FullDiskAtStart(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tsfull.")
        self.mnt = os.path.join(self.tmp, "mnt")
        os.mkdir(self.mnt)
        # Room for the 64 KiB trace header, not for the stores after it.
        r = run(["mount", "-t", "tmpfs", "-o", "size=100k", "tmpfs", self.mnt])
        if r.returncode != 0:
            os.rmdir(self.mnt)
            os.rmdir(self.tmp)
            self.skipTest("cannot mount a tmpfs: " + r.stderr.strip())

    def tearDown(self):
        run(["umount", self.mnt])
        run(["rm", "-rf", self.tmp])

    def test_program_runs_untraced_and_the_header_says_never_started(self):
        script = os.path.join(self.tmp, "prog.py")
        with open(script, "w") as f:
            f.write("import sys\nprint('the program ran')\nsys.exit(7)\n")
        trace = os.path.join(self.mnt, "t.trace")
        r = run([PY, "-m", "tracestore", "record", "-o", trace, "--", script])
        self.assertEqual(r.returncode, 7, r.stderr)  # the program's own
        self.assertEqual(r.stdout, "the program ran\n")
        lines = [l for l in r.stderr.splitlines() if "cannot record" in l]
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("No space left on device", lines[0])
        self.assertIn("running the program untraced", lines[0])
        info = run([CLI, "info", trace])
        self.assertEqual(info.returncode, 2, info.stdout)
        self.assertIn("never started", info.stderr)
        self.assertNotIn("closed", info.stdout)


if __name__ == "__main__":
    unittest.main()
