# The Debian unstable chroot that holds the interpreters newer than the
# host's libc allows (CPython 3.14 and 3.15 from Debian's own packages),
# with what the build and the tests need. Sourced by setup.sh.
#
#   ts_ensure_chroot     # create once (debootstrap), then only check it
#   ts_in_chroot CMD...  # run CMD inside it, with the source tree bound
#
# The chroot lives outside the work tree ($TS_CHROOT, by default
# /var/cache/tracestore/sid-<arch>) so that every clone on the machine
# shares it; a second run checks the packages and takes seconds.

TS_CHROOT="${TS_CHROOT:-/var/cache/tracestore/sid-$(dpkg --print-architecture 2>/dev/null || echo amd64)}"
TS_CHROOT_MIRROR="${TS_CHROOT_MIRROR:-http://deb.debian.org/debian}"
TS_CHROOT_PACKAGES=(python3.14-dev python3.15-dev libpython3.14-testsuite
                    libpython3.15-testsuite g++ cmake ninja-build pkg-config
                    libsqlite3-dev sqlite3 libabsl-dev libxxhash-dev libgtest-dev
                    libgmock-dev libncurses-dev linux-perf
                    valgrind)  # callgrind counts of 3.14/3.15 (bench/pyhook/callgrind_calls.py)
TS_APT_NO_VALID_UNTIL=(-o Acquire::Check-Valid-Until=false)

ts_chroot_missing() {
  local pkg missing=()
  for pkg in "${TS_CHROOT_PACKAGES[@]}"; do
    chroot "$TS_CHROOT" dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
      | grep -q '^install ok installed$' || missing+=("$pkg")
  done
  printf '%s\n' "${missing[@]}"
}

ts_ensure_chroot() {
  if [ "$(id -u)" -ne 0 ]; then
    ts_log "the 3.14/3.15 chroot needs root (debootstrap, chroot): skipped"
    return 1
  fi
  local started=$SECONDS
  if [ ! -x "$TS_CHROOT/usr/bin/dpkg" ] || [ ! -e "$TS_CHROOT/.tracestore-complete" ]; then
    ts_log "creating the Debian unstable chroot $TS_CHROOT (once per machine)"
    rm -rf "$TS_CHROOT"
    mkdir -p "$(dirname "$TS_CHROOT")"
    local include
    include="$(IFS=,; echo "${TS_CHROOT_PACKAGES[*]}")"
    # The host's keyring may predate the keys unstable is signed with now:
    # try it first, then without the signature check (same archive).
    if ! debootstrap --variant=minbase --include="$include" sid "$TS_CHROOT" \
         "$TS_CHROOT_MIRROR" >"$TS_CHROOT.log" 2>&1; then
      ts_log "debootstrap with the host's keyring failed (see $TS_CHROOT.log); retrying without it"
      rm -rf "$TS_CHROOT"
      debootstrap --no-check-gpg --variant=minbase --include="$include" sid \
        "$TS_CHROOT" "$TS_CHROOT_MIRROR" >"$TS_CHROOT.log" 2>&1 || {
        ts_log "debootstrap failed: $(tail -3 "$TS_CHROOT.log")"
        return 1
      }
    fi
    touch "$TS_CHROOT/.tracestore-complete"
  fi
  local missing
  mapfile -t missing < <(ts_chroot_missing | sed '/^$/d')
  if [ "${#missing[@]}" -gt 0 ]; then
    ts_log "installing in the chroot: ${missing[*]}"
    chroot "$TS_CHROOT" apt-get "${TS_APT_NO_VALID_UNTIL[@]}" update -qq &&
      DEBIAN_FRONTEND=noninteractive chroot "$TS_CHROOT" apt-get \
        "${TS_APT_NO_VALID_UNTIL[@]}" install -y -qq --no-install-recommends \
        "${missing[@]}" || return 1
  fi
  ts_log "chroot ready: $(chroot "$TS_CHROOT" python3.14 -c 'import sys; print(sys.version.split()[0])') and $(chroot "$TS_CHROOT" python3.15 -c 'import sys; print(sys.version.split()[0])') ($((SECONDS - started)) s)"
}

# ts_in_chroot DIR CMD...: runs CMD in the chroot with DIR (a host path)
# bound at the same path, /proc and /dev mounted, for the command's life.
ts_in_chroot() {
  local dir="$1"; shift
  local root="$TS_CHROOT"
  mkdir -p "$root$dir" "$root/proc" "$root/dev" "$root/sys" "$root/tmp"
  mount --bind "$dir" "$root$dir"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  mount --rbind /sys "$root/sys"
  local rc=0
  chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root \
    LANG=C.UTF-8 bash -c 'cd "$0" && "$@"' "$dir" "$@" || rc=$?
  umount -l "$root/sys" 2>/dev/null || true
  umount -l "$root/dev" 2>/dev/null || true
  umount "$root/proc" 2>/dev/null || true
  umount "$root$dir" 2>/dev/null || true
  return $rc
}
