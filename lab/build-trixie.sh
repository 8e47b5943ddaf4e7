#!/usr/bin/env bash
# Usage: lab/build-trixie.sh
# Builds, once per machine, the lab's Debian 13 endpoint tree:
# $PATCHCTL_LAB_ROOT/trixie (default /var/lib/patchctl-lab/trixie), made by
# `debootstrap --variant=minbase trixie` (apt 3.0), with:
#   - the sources a trixie install ships, in deb822 form
#     (/etc/apt/sources.list.d/debian.sources): trixie, trixie-updates and
#     trixie-security, then a fresh `apt-get update`, so that the real pending
#     updates of the day are there (trixie-security's print as
#     `Debian-Security:13/stable-security`);
#   - a local, unsigned repository inside the tree (/srv/lab-repo, like the
#     bookworm tree's) with two deterministic updates: patchlab-canary
#     1.0 -> 1.1 (suite lab-security, asks for a reboot) and patchlab-tool
#     1.0 -> 2.0 (suite lab-updates), the 1.0s installed;
#   - every pending update's candidate .deb in the tree's apt cache
#     (/var/cache/apt/archives), so that a deploy into a copy works offline and
#     still works once the mirror has moved on from the tree's indexes;
#   - /etc/hosts naming this machine, and apt's configuration as shipped
#     (nothing added to /etc/apt/apt.conf.d).
# Rebuilt when TRIXIE_VERSION (common.sh) changes; otherwise a no-op. Deletes
# the writable copy (trixie-rw): lab/start.sh (lab/trixie.sh reset) copies it
# anew. Needs the Debian mirror once.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
command -v debootstrap >/dev/null || die "debootstrap missing: run lab/deps.sh"
command -v dpkg-scanpackages >/dev/null || die "dpkg-scanpackages missing: run lab/deps.sh"
# debootstrap resolves trixie through its scripts and checks the Release
# signature with the host's keyring (Debian 12's has the trixie keys).
[ -e /usr/share/debootstrap/scripts/trixie ] || die "this debootstrap does not know trixie: upgrade debootstrap"

mkdir -p "$LAB_ROOT"
check_chroot_perms "$LAB_ROOT"
exec 9>"$LAB_ROOT/.trixie-build.lock"
flock 9                                  # parallel callers wait for one build
trixie_built && exit 0

TMP=$LAB_ROOT/trixie.tmp
LOG=$LAB_ROOT/build-trixie.log
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; umount_under "$TMP"' EXIT
fail() { echo "lab: trixie tree build failed: $*; last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
: >"$LOG"
rm -f "$TRIXIE_MARKER"
remove_tree "$TMP"
mkdir -m 755 "$TMP"
run() { in_chroot "$TMP" "$@" >>"$LOG" 2>&1; }

debootstrap --variant=minbase trixie "$TMP" http://deb.debian.org/debian >>"$LOG" 2>&1 || fail "debootstrap"
[ -x "$TMP/usr/bin/apt-get" ] || fail "no apt-get in the tree"

# --- apt sources, as a trixie installation writes them (deb822) ---------------
rm -f "$TMP/etc/apt/sources.list"        # debootstrap's one-line file; debian.sources replaces it
cat >"$TMP/etc/apt/sources.list.d/debian.sources" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
cat >"$TMP/etc/apt/sources.list.d/patchlab.sources" <<'SRC'
# Local, unsigned lab repository with deterministic pending updates.
Types: deb
URIs: file:/srv/lab-repo
Suites: lab-security lab-updates
Components: main
Trusted: yes
SRC

# --- the lab's own repository: /srv/lab-repo (lab/lab-repo.sh) ------------------
. "$(dirname "$0")/lab-repo.sh"
build_lab_repo "$WORK" "$TMP/srv/lab-repo" 13 "$LOG"

# --- the old versions installed, current indexes, candidates cached ------------
mkdir -p "$TMP/tmp/patchlab"
cp "$WORK"/patchlab-*_1.0_all.deb "$TMP/tmp/patchlab/"
run sh -c 'dpkg -i /tmp/patchlab/*.deb && rm -rf /tmp/patchlab' || fail "dpkg -i the lab packages"
run apt-get -q update || fail "apt-get update"
rm -f "$TMP"/var/cache/apt/archives/*.deb   # debootstrap's leftovers
run apt-get -q -y -d -o Dpkg::Use-Pty=0 dist-upgrade || fail "apt-get -d dist-upgrade (caching the candidates)"
rm -f "$TMP/run/reboot-required" "$TMP/run/reboot-required.pkgs"

if [ ! -e "$TMP/etc/hosts" ]; then
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
        "$(hostname)" >"$TMP/etc/hosts"
fi

# --- sanity: apt itself sees what the tests expect ------------------------------
in_chroot "$TMP" apt list --upgradable >"$WORK/upgradable" 2>>"$LOG" || fail "apt list --upgradable"
cat "$WORK/upgradable" >>"$LOG"
grep -q '^patchlab-canary/lab-security 1\.1 all \[upgradable from: 1\.0\]' "$WORK/upgradable" ||
    fail "apt list --upgradable lacks patchlab-canary 1.1 from lab-security"
grep -q '^patchlab-tool/lab-updates 2\.0 all \[upgradable from: 1\.0\]' "$WORK/upgradable" ||
    fail "apt list --upgradable lacks patchlab-tool 2.0 from lab-updates"
SIM=$(in_chroot "$TMP" apt-get -s -o Debug::NoLocking=1 dist-upgrade 2>>"$LOG") || fail "apt-get -s dist-upgrade"
grep -q '^Inst patchlab-canary \[1.0\] (1.1 PatchLab-Security:13/lab-security \[all\])' <<<"$SIM" || { echo "$SIM" >>"$LOG"; fail "apt-get -s lacks patchlab-canary"; }

# --- commit ---------------------------------------------------------------------
trixie_stamp >"$TMP/$TRIXIE_STAMP_FILE"
umount_under "$TMP"
chmod 755 "$TMP"
remove_tree "$TRIXIE_TREE"
remove_tree "$TRIXIE_BASE"
mv "$TMP" "$TRIXIE_BASE"
check_chroot_perms "$TRIXIE_BASE"
{ trixie_stamp; printf 'built %s with debootstrap %s: apt %s; %s pending updates, %s from trixie-security\n' \
    "$(date -u +%FT%TZ)" "$(dpkg-query -W -f='${Version}' debootstrap)" \
    "$(in_chroot "$TRIXIE_BASE" dpkg-query -W -f='${Version}' apt)" \
    "$(grep -c '\[upgradable from:' "$WORK/upgradable")" "$(grep -c '/[^ ]*stable-security[, ]' "$WORK/upgradable" || true)"; } >"$TRIXIE_MARKER"
