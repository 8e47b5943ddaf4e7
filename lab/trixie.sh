#!/usr/bin/env bash
# Usage: lab/trixie.sh reset        fresh copy of the cached Debian 13 tree
# The Debian 13 endpoint (lab/build-trixie.sh): the lab sshd chroots sessions on
# TRIXIE_PORT (2228) into $PATCHCTL_LAB_ROOT/trixie-rw, a writable copy of the
# cached trixie tree, where scans read apt 3.0's answer and deploys change it.
#
# reset: the tree becomes a fresh copy of the cached one (cp -a, about a
#   second; processes still running in the old copy are killed), with the
#   build's pending updates and their cached candidate .debs.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
usage() { sed -n '2p' "$0" | sed 's/^# //' >&2; exit 64; }
[ $# = 1 ] || usage
mkdir -p "$LAB_ROOT"
exec 9>"$LAB_ROOT/.trixie.lock"
flock 9                                  # one change at a time

reset_tree() {
    trixie_built || die "no current trixie tree: run lab/build-trixie.sh"
    remove_tree "$TRIXIE_TREE.tmp"
    cp -a --reflink=auto "$TRIXIE_BASE" "$TRIXIE_TREE.tmp"
    # Swap by two renames, so that a new session never finds the tree missing.
    remove_tree "$TRIXIE_TREE.old"
    [ ! -e "$TRIXIE_TREE" ] || mv "$TRIXIE_TREE" "$TRIXIE_TREE.old"
    mv "$TRIXIE_TREE.tmp" "$TRIXIE_TREE"
    check_chroot_perms "$TRIXIE_TREE"
    kill_chrooted KILL "$TRIXIE_TREE.old"
    remove_tree "$TRIXIE_TREE.old"
}

case $1 in
    reset) reset_tree ;;
    *) usage ;;
esac
