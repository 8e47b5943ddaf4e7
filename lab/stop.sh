#!/usr/bin/env bash
# Usage: lab/stop.sh
# Stops the lab sshd started by lab/start.sh and any sessions it spawned
# (e.g. the `sleep 600` of the slow port), i.e. every process chrooted into
# a lab tree. No-op when nothing runs.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# The pid is ours only if that process runs sshd with our config file.
lab_pid() {
    local pid
    pid=$(cat "$LAB_DIR/sshd.pid" 2>/dev/null) || return 1
    [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" |
        grep -qF -- "-f $LAB_DIR/sshd_config" && echo "$pid"
}
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

if pid=$(lab_pid); then
    kids=$(descendants "$pid")
    kill "$pid" $kids 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "sshd $pid did not stop"
fi
rm -f "$LAB_DIR/sshd.pid"
for _ in $(seq 50); do
    left=$(chrooted)
    [ -z "$left" ] && exit 0
    kill $left 2>/dev/null || true
    sleep 0.1
done
die "lab sessions still running: $left"
