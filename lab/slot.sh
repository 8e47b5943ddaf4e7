#!/usr/bin/env bash
# Usage: lab/slot.sh reset SLOT                  fresh copy of the base tree
#        lab/slot.sh login SLOT USER [TTY]        USER shows in `who` on TTY (default pts/0)
#        lab/slot.sh logout SLOT                  nobody is logged in any more
#        lab/slot.sh break-dpkg SLOT [MODE]       leave dpkg needing `dpkg --configure -a`
# The deploy endpoints' trees. SLOT is 1..SLOT_COUNT (6): the lab sshd chroots
# sessions to SLOT_ADDRESS_PREFIX$SLOT (127.0.3.N) on DEPLOY_PORT (2225) into
# $PATCHCTL_LAB_ROOT/slots/N; or `reboot`: the reboot endpoint's tree,
# slots/reboot (127.0.4.1:2226, its own sshd; see lab/reboot-supervisor.sh).
#
# reset: the slot becomes a fresh copy of the cached base tree (cp -a, about a
#   second); processes still running in the old copy are killed (a fresh host
#   has no leftover sessions). The reboot tree additionally gets
#     /proc/sys/kernel/random/boot_id  a regular file with a fresh UUID (no /proc
#                                      is mounted in the lab, so this is what
#                                      `cat /proc/sys/kernel/random/boot_id` reads);
#     /sbin/shutdown                   a stand-in for systemd's, for the forms
#                                      patchctl uses (see the script itself).
# login: writes a real utmp USER_PROCESS record into the tree's /run/utmp (what
#   `who` reads via /var/run -> /run). Its pid is 1: coreutils `who` hides
#   records whose process is gone (kill(pid, 0) fails with ESRCH), and pid 1
#   always exists. A record on the same TTY is replaced.
# break-dpkg MODE:
#   unpacked (default)  patchlab-tool 2.0 from the tree's lab repo is unpacked
#                       but not configured: `dpkg --audit` lists it, apt counts
#                       "1 not fully installed", `dpkg --configure -a` repairs it.
#   interrupted         dpkg is killed (SIGKILL) half-way through configuring a
#                       small package patchlab-interrupted, leaving its journal
#                       in /var/lib/dpkg/updates: apt refuses to install ("dpkg
#                       was interrupted, you must manually run 'dpkg --configure
#                       -a'"), and `dpkg --configure -a` repairs it.
set -euo pipefail
. "$(dirname "$0")/common.sh"
need_root
usage() { sed -n '2,5s/^# //p' "$0" >&2; exit 64; }
[ $# -ge 2 ] || usage
action=$1 slot=$2
shift 2
tree=$(slot_tree "$slot")
mkdir -p "$LAB_ROOT"
exec 9>"$LAB_ROOT/.slot-$slot.lock"
flock 9                                  # one change per slot at a time

# A path inside the tree that must be a real directory, never a symlink that
# could lead out of it (the tree's /var/run is an absolute link to /run).
tree_dir() {
    [ -d "$tree/$1" ] && [ ! -L "$tree/$1" ] || die "$tree/$1 is not a directory of the tree"
    echo "$tree/$1"
}

new_uuid() { cat /proc/sys/kernel/random/uuid; }

# The reboot endpoint's extras, added to a fresh copy TMP.
add_reboot_layer() {
    local tmp=$1 f
    [ -d "$tmp/proc" ] && [ ! -L "$tmp/proc" ] || die "$tmp/proc is not a directory"
    mkdir -p "$tmp/proc/sys/kernel/random"
    f=$tmp/$BOOT_ID_FILE
    new_uuid >"$f"
    chmod 444 "$f"
    [ -d "$tmp/usr/sbin" ] && [ ! -L "$tmp/usr/sbin" ] || die "$tmp/usr/sbin is not a directory"
    mkdir -p "$tmp/run/patchctl-lab"
    cat >"$tmp/usr/sbin/shutdown" <<'SHUTDOWN'
#!/bin/sh
# patchctl lab: stands in for systemd's shutdown on the lab's reboot endpoint
# (written by lab/slot.sh reset reboot), for the forms patchctl uses:
#   shutdown -r now [MESSAGE...]   reboot at once (+0 is the same)
#   shutdown -r +N [MESSAGE...]    reboot in N minutes
#   shutdown -c [MESSAGE...]       cancel a pending reboot
# Anything else fails (exit 1) with a message on stderr. It writes the request,
# the delay in minutes, to /run/patchctl-lab/reboot-request (a new request
# replaces a pending one); lab/reboot-supervisor.sh, outside the chroot, reboots
# the endpoint when it falls due, where a lab "minute" lasts
# PATCHCTL_LAB_REBOOT_MINUTE seconds (default 1). Every invocation is appended
# to /var/log/patchctl-lab-shutdown.log.
REQUEST=/run/patchctl-lab/reboot-request
{
    printf '%s uid=%s shutdown' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(id -u)"
    for a in "$@"; do printf " '%s'" "$a"; done
    echo
} >>/var/log/patchctl-lab-shutdown.log 2>/dev/null
fail() { echo "$*" >&2; exit 1; }
unsupported() {
    [ $# -gt 0 ] || set -- "(none)"
    fail "shutdown: unsupported arguments:$(printf " '%s'" "$@")
(patchctl lab: only 'shutdown -r now|+MINUTES [MESSAGE...]' and 'shutdown -c [MESSAGE...]')"
}
[ "$(id -u)" = 0 ] || fail "Failed to talk to shutdown daemon: Access denied"
case ${1-} in
    -c)
        rm -f "$REQUEST" || fail "Failed to cancel shutdown"
        exit 0 ;;
    -r|--reboot) [ $# -ge 2 ] || unsupported "$@" ;;
    *) unsupported "$@" ;;
esac
case $2 in
    now) minutes=0 ;;
    +*[!0-9]*|+) unsupported "$@" ;;
    +*) minutes=$(echo "${2#+}" | sed 's/^0*//'); minutes=${minutes:-0} ;;
    *) unsupported "$@" ;;
esac
[ ${#minutes} -le 6 ] || unsupported "$@"
mkdir -p "${REQUEST%/*}" && echo "$minutes" >"$REQUEST.tmp" && mv -f "$REQUEST.tmp" "$REQUEST" ||
    fail "Failed to schedule shutdown: cannot write $REQUEST"
if [ "$minutes" -gt 0 ]; then
    echo "Reboot scheduled for $(date -d "+$minutes minutes" '+%a %Y-%m-%d %H:%M:%S %Z'), use 'shutdown -c' to cancel." >&2
fi
exit 0
SHUTDOWN
    chmod 755 "$tmp/usr/sbin/shutdown"
}

reset_slot() {
    [ -f "$BASE_MARKER" ] || die "no base tree: run lab/build-chroot.sh"
    provisioned "$BASE_TREE" || die "base tree predates provisioning v$PROVISION_VERSION: run lab/build-chroot.sh"
    mkdir -p -m 755 "$SLOTS_ROOT"
    check_chroot_perms "$SLOTS_ROOT"
    remove_tree "$tree.tmp"
    # A base that is a symlink would be copied as the link, and the slot's changes (the reboot
    # layer, deploys) would land in the shared base tree itself.
    [ -d "$BASE_TREE" ] && [ ! -L "$BASE_TREE" ] || die "$BASE_TREE is not a directory"
    cp -a --reflink=auto "$BASE_TREE" "$tree.tmp"
    [ -d "$tree.tmp" ] && [ ! -L "$tree.tmp" ] || die "$tree.tmp is not a copy of the base tree"
    if [ "$slot" = reboot ]; then
        add_reboot_layer "$tree.tmp"
        exec 8>"$REBOOT_LOCK"
        flock 8                          # never while the supervisor reboots the endpoint
    fi
    # Swap by two renames, so that a new session never finds the slot missing.
    remove_tree "$tree.old"
    [ ! -e "$tree" ] || mv "$tree" "$tree.old"
    mv "$tree.tmp" "$tree"
    check_chroot_perms "$tree"
    kill_chrooted KILL "$tree.old"
    remove_tree "$tree.old"
}

login() {
    local user=${1:?usage: lab/slot.sh login SLOT USER [TTY]} tty=${2:-pts/0} id run utmp gid
    [[ $user =~ ^[A-Za-z0-9._-]{1,32}$ ]] || die "bad user name '$user'"
    [[ $tty =~ ^[A-Za-z0-9/._-]{1,32}$ ]] || die "bad tty '$tty'"
    id=${tty: -4}                        # as login and sshd do: the line's last 4 characters
    [ -n "$id" ] || id=$tty
    run=$(tree_dir run)
    utmp=$run/utmp
    {
        # Keep the other records, drop one on the same line.
        [ -s "$utmp" ] && utmpdump "$utmp" 2>/dev/null |
            awk -v tty="$tty" -F'\\] \\[' '{ l = $5; sub(/ +$/, "", l); if (l != tty) print }'
        # [type] [pid] [id] [user] [line] [host] [addr] [time]; 7 = USER_PROCESS
        printf '[7] [00001] [%s] [%s] [%s] [%s] [%s] [%s]\n' "$id" "$user" "$tty" \
            127.0.0.1 127.0.0.1 "$(date -u +%Y-%m-%dT%H:%M:%S,%6N+00:00)"
    } | utmpdump -r -o "$utmp.tmp" 2>/dev/null
    gid=$(awk -F: '$1 == "utmp" { print $3 }' "$tree/etc/group")
    chown "0:${gid:-0}" "$utmp.tmp"
    chmod 664 "$utmp.tmp"
    mv -f "$utmp.tmp" "$utmp"
    in_chroot "$tree" who | grep -q "^$user  *$tty " || die "who in $tree does not list $user on $tty"
}

logout() {
    local run
    run=$(tree_dir run)
    [ ! -e "$run/utmp" ] || : >"$run/utmp"
    [ -z "$(in_chroot "$tree" who)" ] || die "who in $tree still lists users"
}

break_dpkg() {
    local mode=${1:-unpacked}
    case $mode in
        unpacked)
            in_chroot "$tree" dpkg --unpack /srv/lab-repo/pool/lab-updates/patchlab-tool_2.0_all.deb >/dev/null ||
                die "dpkg --unpack patchlab-tool 2.0 failed in $tree"
            ;;
        interrupted)
            work=$(mktemp -d)             # globals: the EXIT trap needs them
            deb=$(tree_dir tmp)/patchlab-interrupted.deb
            trap 'rm -rf "$work" "$deb"' EXIT
            mkdir -p "$work/pkg/DEBIAN"
            cat >"$work/pkg/DEBIAN/control" <<'CTL'
Package: patchlab-interrupted
Version: 1.0
Architecture: all
Section: misc
Priority: optional
Maintainer: patchctl lab <lab@patchctl.invalid>
Description: patchctl test-lab package whose first configuration is interrupted
 Its postinst kills dpkg (SIGKILL) the first time it runs, as a power cut would.
CTL
            cat >"$work/pkg/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ ! -e /var/lib/patchlab-interrupted.once ]; then
    : >/var/lib/patchlab-interrupted.once
    kill -KILL "$PPID"
fi
POSTINST
            chmod 755 "$work/pkg/DEBIAN/postinst"
            SOURCE_DATE_EPOCH=1700000000 dpkg-deb --root-owner-group -Zxz --build "$work/pkg" "$deb" >/dev/null
            rm -f "$tree/var/lib/patchlab-interrupted.once"
            # dpkg is meant to die here (exit 137).
            ! in_chroot "$tree" dpkg -i /tmp/patchlab-interrupted.deb >/dev/null 2>&1 ||
                die "dpkg was not interrupted in $tree"
            [ -n "$(ls -A "$tree/var/lib/dpkg/updates")" ] || die "dpkg left no journal in $tree"
            ;;
        *) die "break-dpkg: unknown mode '$mode' (unpacked, interrupted)" ;;
    esac
    [ -n "$(in_chroot "$tree" dpkg --audit)" ] || die "dpkg --audit finds nothing wrong in $tree"
}

case $action in
    reset) [ $# = 0 ] || usage; reset_slot ;;
    login|logout|break-dpkg)
        [ -d "$tree" ] || die "slot $slot does not exist: run lab/start.sh or lab/slot.sh reset $slot"
        case $action in
            login) [ $# -ge 1 ] && [ $# -le 2 ] || usage; login "$@" ;;
            logout) [ $# = 0 ] || usage; logout ;;
            break-dpkg) [ $# -le 1 ] || usage; break_dpkg "$@" ;;
        esac ;;
    *) usage ;;
esac
