#!/usr/bin/env bash
# Usage: lab/reset-rw.sh
# (Re)creates the writable tree ($PATCHCTL_LAB_ROOT/bookworm-rw) as a fresh copy
# of the cached base tree, undoing whatever deploy tests did to it. Safe while
# the lab sshd runs: each new session chroots into whatever is there then.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
[ -f "$BASE_MARKER" ] || die "no base tree: run lab/build-chroot.sh"
provisioned "$BASE_TREE" || die "base tree predates provisioning v$PROVISION_VERSION: run lab/build-chroot.sh"
exec 9>"$LAB_ROOT/.rw.lock"
flock 9
remove_tree "$RW_TREE.tmp"
cp -a --reflink=auto "$BASE_TREE" "$RW_TREE.tmp"
remove_tree "$RW_TREE"
mv "$RW_TREE.tmp" "$RW_TREE"
check_chroot_perms "$RW_TREE"
