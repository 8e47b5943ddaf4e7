#!/usr/bin/env bash
# Usage: lab/build-chroot.sh
# Builds, once per machine, the cached Debian 12 tree the lab sshd chroots into:
# $PATCHCTL_LAB_ROOT/bookworm (default /var/lib/patchctl-lab/bookworm).
# It has bookworm, bookworm-updates and bookworm-security sources with a fresh
# `apt-get update` (so real updates are pending), plus a local apt repo with two
# deterministic updates: patchlab-canary 1.0 -> 1.1 (suite lab-security) and
# patchlab-tool 1.0 -> 2.0 (suite lab-updates), then lab/provision.sh's layer
# (sudo and the become-test accounts). Once the marker exists, re-running only
# brings an older cached tree up to the current provisioning, in place (a
# no-op when it is current); an interrupted build is thrown away and redone.
# Deletes the writable copy (bookworm-rw) on rebuild so it is re-copied
# (lab/start.sh also re-copies it when its provisioning differs from the base).
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
command -v debootstrap >/dev/null || die "debootstrap missing: run lab/deps.sh"
command -v dpkg-scanpackages >/dev/null || die "dpkg-scanpackages missing: run lab/deps.sh"

mkdir -p "$LAB_ROOT"
check_chroot_perms "$LAB_ROOT"
exec 9>"$LAB_ROOT/.build.lock"
flock 9                                  # parallel callers wait for one build
if [ -f "$BASE_MARKER" ] && [ -d "$BASE_TREE" ]; then
    exec "$LAB_SCRIPTS/provision.sh" "$BASE_TREE"   # still holding the build lock (fd 9)
fi

TMP=$LAB_ROOT/bookworm.tmp
LOG=$LAB_ROOT/build.log
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; umount_under "$TMP"' EXIT
fail() { echo "lab: build failed, last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
: >"$LOG"
rm -f "$BASE_MARKER"
remove_tree "$TMP"
mkdir -m 755 "$TMP"

debootstrap --variant=minbase bookworm "$TMP" http://deb.debian.org/debian >>"$LOG" 2>&1 || fail

cat >"$TMP/etc/apt/sources.list" <<'SRC'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SRC
cat >"$TMP/etc/apt/sources.list.d/patchlab.list" <<'SRC'
# Local, unsigned lab repo with deterministic pending updates.
deb [trusted=yes] file:/srv/lab-repo lab-security main
deb [trusted=yes] file:/srv/lab-repo lab-updates main
SRC

# --- the lab's own repository: /srv/lab-repo (lab/lab-repo.sh) ------------------
. "$(dirname "$0")/lab-repo.sh"
build_lab_repo "$WORK" "$TMP/srv/lab-repo" 12 "$LOG"

# Install the old versions, then refresh indexes so real updates show as pending.
mkdir -p "$TMP/tmp/patchlab"
cp "$WORK"/patchlab-*_1.0_all.deb "$TMP/tmp/patchlab/"
in_chroot "$TMP" sh -c 'dpkg -i /tmp/patchlab/*.deb && rm -rf /tmp/patchlab' >>"$LOG" 2>&1 || fail
in_chroot "$TMP" apt-get update >>"$LOG" 2>&1 || fail
rm -f "$TMP/run/reboot-required" "$TMP/run/reboot-required.pkgs"
rm -f "$TMP"/var/cache/apt/archives/*.deb   # debootstrap leftovers; keep lists and caches

# Sanity: both lab updates must be pending, from the right suites.
SIM=$(in_chroot "$TMP" apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>>"$LOG") || fail
grep -q '^Inst patchlab-canary \[1.0\] (1.1 .*/lab-security \[all\])' <<<"$SIM" || { echo "$SIM" >>"$LOG"; fail; }
grep -q '^Inst patchlab-tool \[1.0\] (2.0 .*/lab-updates \[all\])' <<<"$SIM" || { echo "$SIM" >>"$LOG"; fail; }

"$LAB_SCRIPTS/provision.sh" "$TMP"       # sudo and accounts; checks pending updates are kept

# Commit: nothing may stay mounted inside, then atomically swap the tree in.
umount_under "$TMP"
chmod 755 "$TMP"
remove_tree "$RW_TREE"
remove_tree "$BASE_TREE"
mv "$TMP" "$BASE_TREE"
check_chroot_perms "$BASE_TREE"
printf 'built %s with debootstrap %s\n' "$(date -u +%FT%TZ)" \
    "$(dpkg-query -W -f='${Version}' debootstrap)" >"$BASE_MARKER"
