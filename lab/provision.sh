#!/usr/bin/env bash
# Usage: lab/provision.sh TREE
# Layers what the become (sudo) tests need onto a lab tree, in place:
#   - the `sudo` package, from the tree's own apt sources (deb.debian.org);
#   - accounts patchlab (password $LAB_SUDO_PASSWORD; sudoers: ALL, password
#     asked) and patchnopw (sudoers: NOPASSWD: ALL), fixed UIDs from common.sh,
#     each with an empty /home/NAME (sshd chdirs there after chrooting);
#   - /etc/hosts naming this machine, if the tree has none (sudo resolves it).
# Nothing else changes: no other package is upgraded and the package indexes
# are kept, so the pending updates (what the scan tests compare with apt's own
# answer) stay exactly what they were; this is checked before the stamp is
# written. Idempotent: a no-op once TREE/$PROVISION_FILE holds the current
# stamp (see PROVISION_VERSION), and an interrupted run is simply redone.
# Run by lab/build-chroot.sh, for a fresh build and for a cached older tree.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
TREE=${1:?usage: lab/provision.sh TREE}
[ -d "$TREE/var/lib/dpkg" ] || die "$TREE is not a lab tree"
exec 8>"$LAB_ROOT/.provision.lock"
flock 8
provisioned "$TREE" && exit 0

LOG=$LAB_ROOT/provision.log
APT_TMP=/tmp/patchlab-apt                # inside TREE
: >"$LOG"
POLICY=                                  # set when we add a policy-rc.d
cleanup() { [ -z "$POLICY" ] || rm -f "$POLICY"; rm -rf "$TREE$APT_TMP"; }
trap cleanup EXIT
fail() { echo "lab: provisioning $TREE failed: $*; last lines of $LOG:" >&2; tail -n 30 "$LOG" >&2; exit 1; }
pending() { in_chroot "$TREE" apt list --upgradable 2>>"$LOG" | grep -F '[upgradable from:' || true; }
before=$(pending)
[ -n "$before" ] || fail "no pending updates in the tree to begin with"

# --- packages: sudo (become tests), openssh-client (relay hosts push over SSH) --
# install_packages [APT-OPTIONS...]: installs LAB_TREE_PACKAGES and their missing
# dependencies at their candidate versions, refusing if that would upgrade
# anything installed (the tree's pending updates are the tests' subject).
install_packages() {
    local sim
    sim=$(in_chroot "$TREE" apt-get -s "$@" install --no-install-recommends "${LAB_TREE_PACKAGES[@]}" 2>>"$LOG") || return 1
    echo "$sim" >>"$LOG"
    if grep -q '^Inst [^ ]* \[' <<<"$sim"; then
        fail "installing ${LAB_TREE_PACKAGES[*]} would upgrade: $(grep '^Inst [^ ]* \[' <<<"$sim" | cut -d' ' -f2 | tr '\n' ' ')"
    fi
    in_chroot "$TREE" apt-get -q -y -o Dpkg::Use-Pty=0 "$@" install --no-install-recommends "${LAB_TREE_PACKAGES[@]}" >>"$LOG" 2>&1
}
missing_packages=0
for package in "${LAB_TREE_PACKAGES[@]}"; do
    in_chroot "$TREE" dpkg-query -W -f='${db:Status-Abbrev}' "$package" 2>/dev/null | grep -q '^ii' || missing_packages=1
done
if [ "$missing_packages" = 1 ]; then
    if [ ! -e "$TREE/usr/sbin/policy-rc.d" ]; then   # no service may start in a chroot
        POLICY=$TREE/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' >"$POLICY"
        chmod 755 "$POLICY"
    fi
    if ! install_packages; then
        # The tree's indexes date from its build; once the mirror has moved on,
        # the .deb they name is gone (404). Fetch current indexes into a
        # throw-away directory instead, leaving the tree's own lists (and so
        # its pending updates) untouched.
        echo "--- retrying with current indexes in $APT_TMP" >>"$LOG"
        fresh=(-o "Dir::State::Lists=$APT_TMP/lists" -o "Dir::Cache=$APT_TMP/cache")
        mkdir -p "$TREE$APT_TMP/lists/partial" "$TREE$APT_TMP/cache/archives/partial"
        in_chroot "$TREE" apt-get -q "${fresh[@]}" update >>"$LOG" 2>&1 || fail "apt-get update (fresh indexes)"
        install_packages "${fresh[@]}" || fail "apt-get install ${LAB_TREE_PACKAGES[*]}"
    fi
    rm -f "$TREE"/var/cache/apt/archives/*.deb
fi

# sudo looks this machine's name up (sessions share its hostname) and warns on
# stderr when it cannot: give the tree the /etc/hosts a Debian install has.
if [ ! -e "$TREE/etc/hosts" ]; then
    printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
        "$(hostname)" >"$TREE/etc/hosts"
fi

# --- accounts, sudoers -------------------------------------------------------
for account in "${LAB_ACCOUNTS[@]}"; do
    name=${account%%:*} uid=${account#*:}
    ensure_account "$name" "$uid" in_chroot "$TREE"
    mkdir -p "$TREE/home/$name"
    chown "$uid:$uid" "$TREE/home/$name"
    chmod 755 "$TREE/home/$name"
done
echo "$LAB_SUDO_USER:$LAB_SUDO_PASSWORD" | in_chroot "$TREE" chpasswd >>"$LOG" 2>&1 || fail "chpasswd"
cat >"$TREE/etc/sudoers.d/patchctl-lab" <<SUDOERS
# patchctl lab (lab/provision.sh): become tests.
$LAB_SUDO_USER ALL=(ALL:ALL) ALL
$LAB_NOPASSWD_USER ALL=(ALL:ALL) NOPASSWD: ALL
SUDOERS
chmod 440 "$TREE/etc/sudoers.d/patchctl-lab"
in_chroot "$TREE" visudo -c -q >>"$LOG" 2>&1 || fail "visudo -c"

# --- the tree's pending updates must be what they were ------------------------
after=$(pending)
if [ "$after" != "$before" ]; then
    diff <(echo "$before") <(echo "$after") >>"$LOG" || true
    fail "the pending updates changed"
fi
# Identical lists keep every security update; still, the scan tests need some.
grep -q -- '-security ' <<<"$after" || fail "no pending security update left"
provision_stamp >"$TREE/$PROVISION_FILE"
