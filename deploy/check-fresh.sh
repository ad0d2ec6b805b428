#!/usr/bin/env bash
# Proves that the README's instructions work on a machine that has nothing but Debian 12: builds a
# minimal bookworm root with debootstrap, copies this source tree into it and, inside a chroot,
# runs the steps of the Dockerfile's build stage and then the README demo (deploy/demo.sh).
# Not part of the test suite (it downloads ~300 MB of packages and takes 15-30 minutes).
#
#   deploy/check-fresh.sh [--root DIR] [--mirror URL] [--keep]
#
#   --root DIR    where the bookworm root goes (default: ../chorus-fresh-root beside the repository); any old root there is
#                 deleted first, so every run starts from nothing
#   --mirror URL  Debian mirror (default: the first bookworm mirror in this host's apt sources)
#   --keep        leave the root in place afterwards, for inspection (default: delete it)
#
# Needs root, debootstrap and network access to the mirror. Prints "check-fresh: OK" at the end.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)/chorus-fresh-root"
mirror=
keep=false
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --mirror) mirror=$2; shift 2 ;;
    --keep) keep=true; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "check-fresh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

source_dir=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  echo "check-fresh: debootstrap and chroot need root; run as root" >&2; exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "check-fresh: debootstrap is missing; apt-get install debootstrap" >&2; exit 1
fi
case "$root" in
  /|/usr|/usr/*|/etc|/etc/*|/home|/root|"$source_dir"|"$source_dir"/*)
    echo "check-fresh: refusing --root '$root' (it is deleted before and after the check)" >&2; exit 2 ;;
esac

# The mirror this host's apt already uses for bookworm (deb822 .sources or one-line .list files).
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
             2>/dev/null | grep -Eo '(URIs: *|deb +)https?://[^ ]*/debian/?( |$)' | head -n 1 |
             grep -Eo 'https?://[^ ]*' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi

log() { echo "check-fresh: $*"; }

# Everything mounted into the root, in mount order; unmounted in reverse by cleanup.
mounted=()
mount_into_root() {  # mount_into_root TARGET MOUNT-ARGUMENTS...
  local target=$root/$1
  shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted+=("$target")
}

still_mounted_under_root() {
  awk -v r="$root/" 'index($2 "/", r) == 1 { found = 1 } END { exit !found }' /proc/mounts
}

cleanup() {
  local status=$?
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[$i]}" 2>/dev/null || umount -l "${mounted[$i]}" || true
  done
  # Never delete through a bind mount of the host's /dev or /proc.
  if still_mounted_under_root; then
    log "something is still mounted under $root; not deleting it"
  elif [ "$keep" = false ] && [ -d "$root" ]; then
    rm -rf --one-file-system "$root"
  fi
  if [ "$status" -ne 0 ]; then log "FAILED (exit status $status)"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -e "$root" ]; then
  if still_mounted_under_root; then
    log "$root has mounts left from an earlier run; unmount them first" >&2; exit 1
  fi
  log "deleting the old root $root"
  rm -rf --one-file-system "$root"
fi

start=$(date +%s)
log "debootstrap bookworm (minbase) from $mirror into $root"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
  tail -n 20 "$root.debootstrap.log" >&2; exit 1; }
rm -f "$root.debootstrap.log"
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
EOF
cp /etc/resolv.conf "$root/etc/resolv.conf"

# The source tree as a fresh clone has it: tracked and new files, never build trees or caches.
log "copying $source_dir into the root"
mkdir -p "$root/src/chorus"
if git -C "$source_dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$source_dir" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' file; do [ -e "$file" ] && printf '%s\0' "$file"; done |
     tar --null -T - -cf -) | tar -C "$root/src/chorus" -xf -
else
  tar -C "$source_dir" --exclude=./build --exclude=./.cache -cf - . | tar -C "$root/src/chorus" -xf -
fi

mount_into_root proc -t proc proc
mount_into_root sys -t sysfs sysfs
mount_into_root dev --bind /dev
mount_into_root dev/pts --bind /dev/pts

in_root() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# The Dockerfile's build stage, step for step (tests/e2e/test_deploy_files.py keeps the two in step).
log "build stage: install-deps.sh build, cmake --preset release, build chorus"
# shellcheck disable=SC2016  # $(nproc) is meant for the shell inside the root
in_root /bin/bash -c 'set -e; cd /src/chorus
  bash deploy/install-deps.sh build
  cmake --preset release
  cmake --build --preset release -j "$(nproc)" --target chorus'
in_root /src/chorus/build/release/chorus version

# The README's quick start.
log "README demo: bash deploy/demo.sh"
in_root /bin/bash -c 'cd /src/chorus && bash deploy/demo.sh'

log "OK: Debian 12 from debootstrap built chorus and ran the demo in $(( $(date +%s) - start )) s"
