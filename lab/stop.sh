#!/usr/bin/env bash
# Usage: lab/stop.sh
# Stops everything lab/start.sh started: the reboot supervisor (first, so that
# it cannot bring the reboot endpoint back), the reboot endpoint's sshd, the lab
# sshd, and any sessions they spawned (e.g. the `sleep 600` of the slow port),
# i.e. every process chrooted into a lab tree (base, rw, deploy slots, reboot,
# the RHEL-family, Debian 13 and SUSE endpoints').
# No-op when nothing runs.
set -euo pipefail
. "$(dirname "$0")/common.sh"

# The supervisor leads its own session (setsid): end its whole process group,
# so that a `sleep` it waits on goes too.
for pid in $(lab_supervisor_pids || true); do
    if [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" = "$pid" ]; then
        kill -- "-$pid" 2>/dev/null || true
    else
        kill "$pid" 2>/dev/null || true
    fi
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    ! alive "$pid" || die "reboot supervisor $pid did not stop"
done
rm -f "$LAB_DIR/reboot-supervisor.pid"

stop_reboot_sshd TERM

if pid=$(lab_sshd_pid); then
    kids=$(descendants "$pid")
    kill "$pid" $kids 2>/dev/null || true
    for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
    ! alive "$pid" || die "sshd $pid did not stop"
fi
rm -f "$LAB_DIR/sshd.pid"
# Sessions outlive a dropped client (e.g. the slow port's `sleep 600` is
# reparented to init), so also end every process whose root is a lab tree.
kill_chrooted TERM "$BASE_TREE" "$RW_TREE" "$SLOTS_ROOT/*" "$RHEL_TREE" "$RHEL_TREE.*" "$TRIXIE_TREE" "$TRIXIE_TREE.*" "$SUSE_TREE" "$SUSE_TREE.*"
