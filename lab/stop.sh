#!/usr/bin/env bash
# Usage: lab/stop.sh
# Stops the lab sshd started by lab/start.sh and any sessions it spawned
# (e.g. the `sleep 600` of the slow port), i.e. every process chrooted into
# a lab tree. No-op when nothing runs.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# Zombies count as gone: our daemonized sshd is reaped by init, maybe late.
alive() { local s; s=$(ps -o stat= -p "$1") && [[ $s != Z* ]]; }
descendants() {
    local c
    for c in $(ps -o pid= --ppid "$1"); do echo "$c"; descendants "$c"; done
}

# Sessions outlive a dropped client (e.g. the slow port's `sleep 600` is
# reparented to init), so also end every process whose root is a lab tree.
chrooted() {
    find /proc -mindepth 2 -maxdepth 2 -name root \( -lname "$BASE_TREE" -o -lname "$RW_TREE" \
        -o -lname "$BASE_TREE (deleted)" -o -lname "$RW_TREE (deleted)" \) 2>/dev/null |
        cut -d/ -f3 || true   # find fails on processes that vanish mid-scan
}

if pid=$(lab_sshd_pid); then
    kids=$(descendants "$pid")
    kill "$pid" $kids 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    ! alive "$pid" || die "sshd $pid did not stop"
fi
rm -f "$LAB_DIR/sshd.pid"
for _ in $(seq 50); do
    left=$(chrooted)
    [ -z "$left" ] && exit 0
    kill $left 2>/dev/null || true
    sleep 0.1
done
die "lab sessions still running: $left"
