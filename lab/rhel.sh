#!/usr/bin/env bash
# Usage: lab/rhel.sh reset          fresh copy of the cached RHEL-family tree
#        lab/rhel.sh boot           the endpoint "booted" now (no reboot pending)
#        lab/rhel.sh break-rpm      leave a duplicate package in the rpm database
# The RHEL-family endpoint (lab/build-rhel.sh): the lab sshd chroots sessions on
# RHEL_PORT (2227) into $PATCHCTL_LAB_ROOT/rocky9-rw, a writable copy of the
# cached rocky9 tree.
#
# reset: the tree becomes a fresh copy of the cached one (cp -a, about a
#   second; processes still running in the old copy are killed), booted now.
# boot: sets the boot time `dnf needs-restarting -r` reads, the mtime of the
#   tree's /proc/1 (a plain directory: nothing is mounted in the lab), to now,
#   as a reboot would. Packages in its list (the kernel, glibc... and here
#   patchlab-openssl-lib) installed after that time make it ask for a reboot.
# break-rpm: rpm installs patchlab-utils 1:2.0 beside the installed 1:1.0, as
#   an interrupted transaction leaves it: `dnf check` reports the duplicate.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
usage() { sed -n '2,4s/^# //p' "$0" >&2; exit 64; }
[ $# = 1 ] || usage
mkdir -p "$LAB_ROOT"
exec 9>"$LAB_ROOT/.rhel.lock"
flock 9                                  # one change at a time

boot() {
    [ -d "$1/proc/1" ] && [ ! -L "$1/proc" ] && [ ! -L "$1/proc/1" ] || die "$1/proc/1 is not a directory of the tree"
    touch "$1/proc/1"
}

reset_tree() {
    rhel_built || die "no current RHEL tree: run lab/build-rhel.sh"
    remove_tree "$RHEL_TREE.tmp"
    cp -a --reflink=auto "$RHEL_BASE" "$RHEL_TREE.tmp"
    boot "$RHEL_TREE.tmp"
    # Swap by two renames, so that a new session never finds the tree missing.
    remove_tree "$RHEL_TREE.old"
    [ ! -e "$RHEL_TREE" ] || mv "$RHEL_TREE" "$RHEL_TREE.old"
    mv "$RHEL_TREE.tmp" "$RHEL_TREE"
    check_chroot_perms "$RHEL_TREE"
    kill_chrooted KILL "$RHEL_TREE.old"
    remove_tree "$RHEL_TREE.old"
}

break_rpm() {
    local rpm=/srv/patchlab-repo/baseos/Packages/patchlab-utils-2.0-1.el9.noarch.rpm
    [ -f "$RHEL_TREE$rpm" ] || die "$RHEL_TREE has no $rpm"
    in_chroot "$RHEL_TREE" rpm -i --nodeps --replacefiles "$rpm" >/dev/null 2>&1 || die "rpm -i $rpm failed"
    ! in_chroot "$RHEL_TREE" dnf -q -C check >/dev/null 2>&1 || die "dnf check finds nothing wrong in $RHEL_TREE"
}

case $1 in
    reset) reset_tree ;;
    boot) [ -d "$RHEL_TREE" ] || die "no $RHEL_TREE: run lab/rhel.sh reset"; boot "$RHEL_TREE" ;;
    break-rpm) [ -d "$RHEL_TREE" ] || die "no $RHEL_TREE: run lab/rhel.sh reset"; break_rpm ;;
    *) usage ;;
esac
