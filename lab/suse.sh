#!/usr/bin/env bash
# Usage: lab/suse.sh reset          fresh copy of the cached SUSE tree (SLES 15 SP5)
#        lab/suse.sh boot           the endpoint "booted" now (no reboot pending)
#        lab/suse.sh os sles|leap   its /etc/os-release: SLES 15 SP5 or openSUSE Leap 15.5
# The SUSE endpoint (lab/build-suse.sh): the lab sshd chroots sessions on
# SUSE_PORT (2229) into $PATCHCTL_LAB_ROOT/sles15-rw, a writable copy of the
# cached sles15 tree.
#
# reset: the tree becomes a fresh copy of the cached one (cp -a, about a
#   second; processes still running in the old copy are killed), booted now.
# boot: removes /run/reboot-needed, the flag `zypper needs-rebooting` tests
#   (left by libzypp for packages in /etc/zypp/needreboot, and by patchctl's
#   deploy after zypper's exit 102 for a patch that suggests a reboot); a real
#   boot empties /run (a tmpfs) the same way.
# os: which os-release the tree answers with (both files were written by the
#   build); the package manager is the same zypper either way.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
usage() { sed -n '2,4s/^# //p' "$0" >&2; exit 64; }
[ $# -ge 1 ] || usage
mkdir -p "$LAB_ROOT"
exec 9>"$LAB_ROOT/.suse.lock"
flock 9                                  # one change at a time

boot() {
    [ -d "$1/run" ] && [ ! -L "$1/run" ] || die "$1/run is not a directory of the tree"
    rm -f "$1/run/reboot-needed"
}

reset_tree() {
    suse_built || die "no current SUSE tree: run lab/build-suse.sh"
    remove_tree "$SUSE_TREE.tmp"
    cp -a --reflink=auto "$SUSE_BASE" "$SUSE_TREE.tmp"
    boot "$SUSE_TREE.tmp"
    # Swap by two renames, so that a new session never finds the tree missing.
    remove_tree "$SUSE_TREE.old"
    [ ! -e "$SUSE_TREE" ] || mv "$SUSE_TREE" "$SUSE_TREE.old"
    mv "$SUSE_TREE.tmp" "$SUSE_TREE"
    check_chroot_perms "$SUSE_TREE"
    kill_chrooted KILL "$SUSE_TREE.old"
    remove_tree "$SUSE_TREE.old"
}

set_os() {
    local file
    case $1 in
        sles) file=os-release.sles ;;
        leap) file=os-release.leap ;;
        *) usage ;;
    esac
    [ -f "$SUSE_TREE/usr/lib/$file" ] && [ ! -L "$SUSE_TREE/usr/lib/$file" ] || die "$SUSE_TREE has no usr/lib/$file"
    [ ! -L "$SUSE_TREE/usr/lib/os-release" ] || die "$SUSE_TREE/usr/lib/os-release is a link"
    cp "$SUSE_TREE/usr/lib/$file" "$SUSE_TREE/usr/lib/os-release"
}

case $1 in
    reset) [ $# = 1 ] || usage; reset_tree ;;
    boot) [ $# = 1 ] || usage; [ -d "$SUSE_TREE" ] || die "no $SUSE_TREE: run lab/suse.sh reset"; boot "$SUSE_TREE" ;;
    os) [ $# = 2 ] || usage; [ -d "$SUSE_TREE" ] || die "no $SUSE_TREE: run lab/suse.sh reset"; set_os "$2" ;;
    *) usage ;;
esac
