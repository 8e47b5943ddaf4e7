#!/usr/bin/env bash
# Usage: lab/reboot-supervisor.sh [MINUTE [DOWNTIME]]
# The "power button" of the lab's reboot endpoint (127.0.4.1:2226, its own sshd
# chrooted into $PATCHCTL_LAB_ROOT/slots/reboot). lab/start.sh runs it in the
# background (setsid; pid in .lab/reboot-supervisor.pid, log in
# .lab/reboot-supervisor.log) and lab/stop.sh ends it; not meant to be run by hand.
#
# Every 0.2 s it looks for the request the tree's /sbin/shutdown writes
# (/run/patchctl-lab/reboot-request: the delay N in minutes). N lab minutes
# after it first sees a request, N x MINUTE seconds (MINUTE defaults to
# $PATCHCTL_LAB_REBOOT_MINUTE, else 1: a lab "minute" lasts one second), it
# "reboots" the endpoint:
#   - kills the endpoint's sshd and all its sessions (open connections drop);
#   - writes a new UUID to the tree's /proc/sys/kernel/random/boot_id;
#   - empties what a reboot empties: the tree's /run/reboot-required(.pkgs),
#     /run/utmp (nobody is logged in any more) and the request itself;
#   - stays down DOWNTIME seconds (default $PATCHCTL_LAB_REBOOT_DOWNTIME, else 2),
#     the port refusing connections, then starts the sshd again.
# A request that disappears (`shutdown -c`, or `lab/slot.sh reset reboot`) is
# cancelled; a rewritten one (a new `shutdown -r`) replaces the pending one.
# Each event is logged with a UTC timestamp, reboots with old and new boot id.
set -uo pipefail                         # no -e: one failed reboot must not end the loop
. "$(dirname "$0")/common.sh"
need_root
MINUTE=${1:-$REBOOT_MINUTE}
DOWNTIME=${2:-$REBOOT_DOWNTIME}
number() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }
number "$MINUTE" && number "$DOWNTIME" || die "MINUTE and DOWNTIME must be numbers of seconds (got '$MINUTE' '$DOWNTIME')"
MINUTE_MS=$(awk -v s="$MINUTE" 'BEGIN { printf "%d", s * 1000 }')
REQUEST=$REBOOT_TREE/$REBOOT_REQUEST
BOOT_ID=$REBOOT_TREE/$BOOT_ID_FILE

now_ms() { local t=$EPOCHREALTIME; echo $(( ${t%[.,]*} * 1000 + 10#${t#*[.,]} / 1000 )); }
log() { printf '%s %s\n' "$(date -u +%FT%T.%3NZ)" "$*"; }

# reboot_endpoint MINUTES: one reboot, holding the reboot lock from the kill until the
# sshd answers again (lab/start.sh and lab/slot.sh reset reboot wait for it).
reboot_endpoint() {
    local old new
    exec 7>"$REBOOT_LOCK"
    flock 7
    if [ ! -f "$REQUEST" ]; then         # cancelled, or the tree reset, while we waited
        log "request gone before the reboot: nothing done"
        exec 7>&-
        return
    fi
    old=$(cat "$BOOT_ID" 2>/dev/null)
    ( stop_reboot_sshd KILL ) || log "warning: sessions still running in $REBOOT_TREE"
    new=$(cat /proc/sys/kernel/random/uuid)
    if [ -d "$REBOOT_TREE/proc/sys/kernel/random" ]; then
        echo "$new" >"$BOOT_ID.tmp" && chmod 444 "$BOOT_ID.tmp" && mv -f "$BOOT_ID.tmp" "$BOOT_ID"
    fi
    rm -f "$REBOOT_TREE/run/reboot-required" "$REBOOT_TREE/run/reboot-required.pkgs" "$REQUEST"
    [ ! -f "$REBOOT_TREE/run/utmp" ] || : >"$REBOOT_TREE/run/utmp"
    log "reboot after $1 minute(s): boot id ${old:-none} -> $new; down for $DOWNTIME s"
    sleep "$DOWNTIME"
    for attempt in 1 2 3; do
        if start_reboot_sshd 2>>"$LAB_DIR/sshd_reboot.log"; then
            for _ in $(seq 100); do ssh_up "$REBOOT_PORT" "$REBOOT_HOST" && break; sleep 0.05; done
            if ssh_up "$REBOOT_PORT" "$REBOOT_HOST"; then log "up again (boot id $new)"; break; fi
        fi
        log "warning: the reboot endpoint did not come back (attempt $attempt), see $LAB_DIR/sshd_reboot.log"
        sleep 1
    done
    exec 7>&-
}

echo $$ >"$LAB_DIR/reboot-supervisor.pid"
trap 'log "stopped"; exit 0' TERM INT
log "started (pid $$): watching $REQUEST; a lab minute lasts $MINUTE s, downtime $DOWNTIME s"
pending= deadline=0
while :; do
    if key=$(stat -c '%i %y' "$REQUEST" 2>/dev/null) && minutes=$(cat "$REQUEST" 2>/dev/null); then
        if ! [[ $minutes =~ ^[0-9]{1,6}$ ]]; then
            log "malformed request '$minutes': removed"
            rm -f "$REQUEST"
            pending=
        elif [ "$key $minutes" != "$pending" ]; then
            pending="$key $minutes"
            deadline=$(( $(now_ms) + 10#$minutes * MINUTE_MS ))
            log "reboot requested in $minutes minute(s)"
        fi
        if [ -n "$pending" ] && [ "$(now_ms)" -ge "$deadline" ]; then
            reboot_endpoint "$minutes"
            pending=
        fi
    elif [ -n "$pending" ]; then
        log "pending reboot cancelled"
        pending=
    fi
    sleep 0.2
done
