#!/usr/bin/env bash
# The Windows build of the ETW bridge (issue 6): cross-compile etwbridge and
# its tests with mingw-w64 into build-mingw/, then run the test .exe files
# under wine64. Wine's ETW functions succeed but record nothing, so the tests
# capture what is handed to EventWriteTransfer through the sink's test seam.
#
#   tools/windows_check.sh              # configure once, build, run
#   tools/windows_check.sh -R python    # extra arguments go to ctest
#
# Needs g++-mingw-w64-x86-64-posix and wine64 (tools/check installs them).
# Wine's prefix lives in build-mingw/wineprefix; no display is needed.
set -euo pipefail
source "$(dirname "$0")/lib/setup.sh"
cd "$TS_ROOT"

dir="${TS_MINGW_BUILD_DIR:-build-mingw}"
start=$(date +%s)

if ! command -v x86_64-w64-mingw32-g++-posix >/dev/null; then
  ts_log "windows: no x86_64-w64-mingw32-g++-posix (apt-get install g++-mingw-w64-x86-64-posix)"
  exit 1
fi
wine="$(command -v wine64 || true)"
if [ -z "$wine" ] && [ -x /usr/lib/wine/wine64 ]; then wine=/usr/lib/wine/wine64; fi
if [ -z "$wine" ]; then
  ts_log "windows: no wine64 (apt-get install wine64)"
  exit 1
fi
wineserver="$(dirname "$wine")/wineserver"
[ -x "$wineserver" ] || wineserver="$(command -v wineserver || true)"

ts_log "windows: mingw-w64 build of etwbridge and its tests ($dir)"
stamp="$dir/.tracestore-configure-args"
args="-DCMAKE_TOOLCHAIN_FILE=$TS_ROOT/cmake/mingw-w64.cmake -DCMAKE_BUILD_TYPE=Release -DTRACESTORE_WERROR=ON"
if [ ! -f "$dir/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$args" ]; then
  # shellcheck disable=SC2086
  cmake -S "$TS_ROOT/etwbridge" -B "$dir" -G Ninja $args >/dev/null
  printf '%s' "$args" > "$stamp"
fi
cmake --build "$dir"

# A private, non-interactive wine: no display, no Mono/Gecko installers.
export WINEPREFIX="$TS_ROOT/$dir/wineprefix"
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml="
export WINEARCH=win64
unset DISPLAY WAYLAND_DISPLAY
stop_wine() {
  # Wait for this prefix's wineserver to go (it lingers a few seconds).
  if [ -n "$wineserver" ]; then "$wineserver" -w 2>/dev/null || true; fi
}
trap stop_wine EXIT
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  ts_log "windows: creating the wine prefix (first run only)"
  "$wine" wineboot --init >/dev/null 2>&1 || true
fi

ts_log "windows: tests under $wine"
ctest --test-dir "$dir" --output-on-failure -j "$(nproc)" "$@"
ts_log "windows: done in $(( $(date +%s) - start )) s"
