# Shared set-up for ./tools/check and ./tools/demo: install what is missing
# from Debian's packages, then configure and build. Sourced, not run.
#
#   source tools/lib/setup.sh
#   ts_install_deps            # apt-get only what is missing (root), else say how
#   ts_build build -DCMAKE_BUILD_TYPE=Release
#
# Idempotent: with everything present it installs nothing and only runs the
# incremental build.

TS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# Debian packages the build and tests need (see ../shared/DESIGN.md).
TS_PACKAGES=(cmake ninja-build g++ pkg-config libsqlite3-dev sqlite3 libabsl-dev
             libxxhash-dev libgtest-dev libbenchmark-dev)
# Windows cross-build of the ETW bridge and its tests (issue 6)
TS_PACKAGES+=(g++-mingw-w64-x86-64-posix wine64)
# libFuzzer targets over the reader: clang and its fuzzer runtime (issue 14)
TS_PACKAGES+=(clang-14 libclang-rt-14-dev)
# top and the HTML export's browser test (issue 7)
TS_PACKAGES+=(libncurses-dev tmux chromium)
# the Perfetto export's test decodes it with protoc (issue 19)
TS_PACKAGES+=(protobuf-compiler)
# stack mode's perf test: perf record / inject --jit / script (issue 8)
TS_PACKAGES+=(linux-perf)
# Debian's own python3.11 (3.11.2, an older patch release: the exactness
# tests run there too) and the chroot holding CPython 3.14/3.15
TS_PACKAGES+=(python3.11 debootstrap)

ts_log() { printf '[tracestore] %s\n' "$*" >&2; }

ts_missing_packages() {
  local pkg missing=()
  for pkg in "${TS_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
      missing+=("$pkg")
    fi
  done
  printf '%s\n' "${missing[@]}"
}

ts_install_deps() {
  local missing
  mapfile -t missing < <(ts_missing_packages | sed '/^$/d')
  if [ "${#missing[@]}" -eq 0 ]; then
    ts_log "all Debian packages present"
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    ts_log "missing Debian packages: ${missing[*]}"
    ts_log "run as root:  apt-get update && apt-get install -y ${missing[*]}"
    exit 1
  fi
  ts_log "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# ts_configure DIR [cmake args...]: configure once (or when args change).
ts_configure() {
  local dir="$1"; shift
  local stamp="$dir/.tracestore-configure-args"
  local args="$*"
  if [ ! -f "$dir/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$args" ]; then
    cmake -S "$TS_ROOT" -B "$dir" -G Ninja "$@" >/dev/null
    printf '%s' "$args" > "$stamp"
  fi
}

# ts_build DIR [cmake args...]: configure once (or when args change), then build.
ts_build() {
  ts_configure "$@"
  cmake --build "$1"
}

# ts_build_targets DIR TARGET [cmake args...]: the same, building only TARGET.
ts_build_targets() {
  local dir="$1" target="$2"; shift 2
  ts_configure "$dir" "$@"
  cmake --build "$dir" --target "$target"
}

# The newest CPython 3.9-3.13 the build made the extension for (empty if none).
ts_newest_python() {
  local tag exe best="" best_minor=0
  for exe in "$TS_ROOT"/build/python/tracestore/_tracestore.cpython-3*-*.so; do
    [ -e "$exe" ] || continue
    tag="${exe##*cpython-3}"; tag="${tag%%-*}"
    if [ "$tag" -gt "$best_minor" ]; then best_minor="$tag"; fi
  done
  [ "$best_minor" -gt 0 ] || return 0
  local root
  root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
  for exe in "$root"/versions/3."$best_minor".*/bin/python3; do
    if [ -x "$exe" ]; then best="$exe"; fi
  done
  if [ -z "$best" ]; then best="$(command -v python3."$best_minor" || true)"; fi
  printf '%s' "$best"
}

source "$TS_ROOT/tools/lib/chroot.sh"
