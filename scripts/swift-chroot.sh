#!/usr/bin/env bash
# Swift 6 on Debian 12: a Debian trixie chroot with its `swiftlang` package, kept under /var/cache
# (never in the repository). Idempotent: the setup is skipped when $SWIFT_ROOT/usr/bin/swift exists.
#
#   scripts/swift-chroot.sh setup              create the chroot if it is missing (~75 s, 2.6 GB)
#   scripts/swift-chroot.sh run 'command'      run a command in the chroot, with the repository
#                                              bind-mounted at /src (cwd /src); always unmounts
#
# Env: SWIFT_ROOT (default /var/cache/hogflags/swift-trixie). Needs root (debootstrap, mount, chroot).
# On macOS or a Linux with Swift installed, none of this is needed: run `swift test` in swift/.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SWIFT_ROOT=${SWIFT_ROOT:-/var/cache/hogflags/swift-trixie}

# usr/bin/swift is an absolute symlink (to /usr/libexec/swift/bin/swift), dangling when seen from the host.
have_swift() { [ -L "$SWIFT_ROOT/usr/bin/swift" ] || [ -e "$SWIFT_ROOT/usr/bin/swift" ]; }

setup() {
  have_swift && return 0
  [ "$(id -u)" -eq 0 ] || { echo "the Swift chroot needs root (debootstrap, mount, chroot)"; return 1; }
  source "$REPO/scripts/lib/toolchains.sh"
  ensure_apt debootstrap
  local mirror
  mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  echo "setting up the Swift chroot in $SWIFT_ROOT (Debian trixie, swiftlang; about 75 s)"
  # A half-made chroot from an interrupted run is started over.
  if [ -d "$SWIFT_ROOT" ]; then
    umount "$SWIFT_ROOT/proc" 2>/dev/null || true
    umount "$SWIFT_ROOT/src" 2>/dev/null || true
    mountpoint -q "$SWIFT_ROOT/src" 2>/dev/null && { echo "$SWIFT_ROOT/src is still mounted"; return 1; }
    rm -rf --one-file-system "$SWIFT_ROOT"
  fi
  mkdir -p "$(dirname "$SWIFT_ROOT")"
  debootstrap --variant=minbase trixie "$SWIFT_ROOT" "$mirror" >/tmp/hogflags-debootstrap.log 2>&1 \
    || { tail -20 /tmp/hogflags-debootstrap.log; return 1; }
  cp /etc/resolv.conf "$SWIFT_ROOT/etc/"
  mount -t proc proc "$SWIFT_ROOT/proc"
  # apt exits non-zero on "Can not write log (Is /dev/pts mounted?)" although the packages install;
  # success is judged by the packages' state and a working `swift --version` instead.
  local rc=0
  chroot "$SWIFT_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive \
    bash -c 'apt-get update -qq; apt-get install -y -qq --no-install-recommends swiftlang libc6-dev >/dev/null 2>&1;
             dpkg --configure -a >/dev/null 2>&1; apt-get clean;
             dpkg-query -W -f="\${db:Status-Status}\n" swiftlang libc6-dev | grep -vqx installed && exit 1;
             swift --version >/dev/null' \
    || rc=$?
  umount "$SWIFT_ROOT/proc"
  [ "$rc" -eq 0 ] && have_swift || { echo "installing swiftlang in the chroot failed"; return 1; }
}

run() {
  setup
  mkdir -p "$SWIFT_ROOT/src"
  mount --bind "$REPO" "$SWIFT_ROOT/src"
  if ! mount -t proc proc "$SWIFT_ROOT/proc"; then
    umount "$SWIFT_ROOT/src"
    return 1
  fi
  trap 'umount "$SWIFT_ROOT/proc" 2>/dev/null || true; umount "$SWIFT_ROOT/src" 2>/dev/null || true' EXIT INT TERM
  local rc=0
  chroot "$SWIFT_ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root bash -c "cd /src && $*" || rc=$?
  return "$rc"
}

case "${1:-}" in
  setup) setup ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 setup | run 'command'"; exit 2 ;;
esac
