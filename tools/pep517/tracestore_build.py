"""A PEP 517 build backend that builds tracestore with its own CMake build.

    pip install --no-build-isolation .

builds the extension for the interpreter running pip only (CMake is told
-DTRACESTORE_PYTHONS=<that interpreter>), in build/pip-<tag>/, and packs
the packages in build/pip-<tag>/python (tracestore, etwtrace) into a wheel. It needs what ./tools/check
installs (cmake, ninja, g++, the -dev packages), nothing from PyPI.
"""

import base64
import hashlib
import os
import subprocess
import sys
import sysconfig
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME, VERSION = "tracestore", "0.1.0"


def _tag():
    v = "cp%d%d" % sys.version_info[:2]
    plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    return "%s-%s-%s" % (v, v, plat)


def _build():
    tag = "py%d%d" % sys.version_info[:2]
    build = os.path.join(ROOT, "build", "pip-" + tag)
    subprocess.check_call([
        "cmake", "-S", ROOT, "-B", build, "-G", "Ninja",
        "-DCMAKE_BUILD_TYPE=Release", "-DTRACESTORE_BUILD_TESTS=OFF",
        "-DTRACESTORE_BUILD_BENCH=OFF", "-DTRACESTORE_PYTHONS=" + sys.executable,
    ], stdout=sys.stderr)
    subprocess.check_call(["cmake", "--build", build], stdout=sys.stderr)
    return os.path.join(build, "python")


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "%s,sha256=%s,%d" % (arcname, digest.decode(), len(data))


def _requires_python():
    """From the one statement of the supported range (_supported.py)."""
    ns = {}
    path = os.path.join(ROOT, "pyhook", "python", "tracestore", "_supported.py")
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), ns)
    oldest, newest = ns["OLDEST"], ns["NEWEST"]
    return ">=%d.%d,<%d.%d" % (oldest + (newest[0], newest[1] + 1))


def _metadata():
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
            "Summary: Record Python programs into memory-mapped trace stores.\n"
            "Requires-Python: %s\n" % (NAME, VERSION, _requires_python()))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    info = "%s-%s.dist-info" % (NAME, VERSION)
    os.makedirs(os.path.join(metadata_directory, info), exist_ok=True)
    with open(os.path.join(metadata_directory, info, "METADATA"), "w") as f:
        f.write(_metadata())
    return info


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    package = _build()
    tag = _tag()
    wheel = "%s-%s-%s.whl" % (NAME, VERSION, tag)
    info = "%s-%s.dist-info" % (NAME, VERSION)
    records = []
    with zipfile.ZipFile(os.path.join(wheel_directory, wheel), "w",
                         zipfile.ZIP_DEFLATED) as z:
        def add(arcname, data, mode=0o644):
            zi = zipfile.ZipInfo(arcname)
            zi.external_attr = (mode | 0o100000) << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
            records.append(_record_line(arcname, data))
        # build/pip-<tag>/python holds the tracestore and etwtrace packages.
        for dirpath, dirnames, filenames in os.walk(package):
            dirnames[:] = [d for d in dirnames if d != "__pycache__"]
            for name in sorted(filenames):
                path = os.path.join(dirpath, name)
                arc = os.path.relpath(path, package)
                with open(path, "rb") as f:
                    data = f.read()
                add(arc, data, 0o755 if os.access(path, os.X_OK) else 0o644)
        add(info + "/METADATA", _metadata().encode())
        add(info + "/WHEEL", ("Wheel-Version: 1.0\nGenerator: tracestore_build\n"
                              "Root-Is-Purelib: false\nTag: %s\n" % tag).encode())
        records.append(info + "/RECORD,,")
        z.writestr(info + "/RECORD", "\n".join(records) + "\n")
    return wheel


def build_sdist(sdist_directory, config_settings=None):
    raise RuntimeError("tracestore builds from a checkout: use "
                       "`pip install --no-build-isolation .`")
