#!/usr/bin/env bash
# Runs inside the Debian unstable chroot (see chroot.sh, called by
# ./tools/check): builds the extension for the CPython versions there
# (3.14, 3.15) into build-newest/ and runs the Python tests for them: the
# recorder's own suite (also with PYTHON_JIT=1) and CPython's own suites
# under the recorder.
set -euo pipefail
cd "$(dirname "$0")/../.."
pythons=()
for minor in 14 15; do
  exe="$(command -v python3.$minor || true)"
  [ -n "$exe" ] && pythons+=("$exe")
done
if [ "${#pythons[@]}" -eq 0 ]; then
  echo "no python3.14/python3.15 in the chroot" >&2
  exit 1
fi
list="$(IFS=';'; echo "${pythons[*]}")"
args="-DCMAKE_BUILD_TYPE=Release -DTRACESTORE_WERROR=ON -DTRACESTORE_BUILD_BENCH=OFF -DTRACESTORE_PYTHONS=$list"
stamp=build-newest/.tracestore-configure-args
if [ ! -f build-newest/build.ninja ] || [ "$(cat "$stamp" 2>/dev/null)" != "$args" ]; then
  # shellcheck disable=SC2086
  cmake -S . -B build-newest -G Ninja $args >/dev/null
  printf '%s' "$args" > "$stamp"
fi
targets=(pyhook_package)
for exe in "${pythons[@]}"; do
  targets+=("pyhook_py$("$exe" -c 'import sys; print("%d%d" % sys.version_info[:2])')")
done
cmake --build build-newest --target "${targets[@]}"
ctest --test-dir build-newest --output-on-failure -j "$(nproc)" -L python -E pip_install "$@"
