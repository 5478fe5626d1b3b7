"""`pip install --no-build-isolation .` works: installs into a fresh target
directory, then records and reads back a trace with the installed package.

    python pip_install.py SOURCE_DIR TARGET_DIR
"""

import os
import shutil
import subprocess
import sys
import tempfile


def main(source, target):
    shutil.rmtree(target, ignore_errors=True)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q",
                           "--no-build-isolation", "--no-deps", "--no-index",
                           "--target", target, source])
    work = tempfile.mkdtemp()
    try:
        script = os.path.join(work, "p.py")
        with open(script, "w") as f:
            f.write("def f():\n    return 1\nf()\nprint('ran')\n")
        env = dict(os.environ, PYTHONPATH=target)
        out = os.path.join(work, "t.trace")
        r = subprocess.run([sys.executable, "-m", "tracestore", "record", "-o",
                            out, "--", script], env=env, cwd=work,
                           stdout=subprocess.PIPE, universal_newlines=True)
        assert r.returncode == 0 and r.stdout == "ran\n", r
        r = subprocess.run(
            [sys.executable, "-c",
             "import tracestore, sys; from tracestore import _tracestore as t; "
             "d = t.load(sys.argv[1]); "
             "print(tracestore.__file__); "
             "print(sorted(f['name'] for f in d['functions']))", out],
            env=env, stdout=subprocess.PIPE, universal_newlines=True, check=True)
        assert r.stdout.startswith(target), r.stdout
        assert "'f'" in r.stdout, r.stdout
        r = subprocess.run([sys.executable, "-m", "tracestore", "verify", out],
                           env=env)
        assert r.returncode == 0
        print("pip install --no-build-isolation: OK")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
