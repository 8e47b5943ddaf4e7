#!/usr/bin/env bash
# Usage: lab/status.sh
# Prints whether the lab sshd runs (pid, ports, trees), and the reboot
# endpoint's sshd and supervisor; exit 0 if the lab sshd and the supervisor
# run (the reboot endpoint's sshd is down for a while on each of its reboots,
# and the supervisor brings it back), 1 if not.
set -euo pipefail
. "$(dirname "$0")/common.sh"
if pid=$(lab_sshd_pid); then
    echo "running: pid $pid, ports $BASE_PORT (base) $RW_PORT (rw) $SLOW_PORT (slow) $DEPLOY_PORT (deploy slots ${SLOT_ADDRESS_PREFIX}1-$SLOT_COUNT)"
    echo "base tree: $BASE_TREE ($(cat "$BASE_MARKER" 2>/dev/null || echo 'NOT BUILT'))"
    echo "rw tree:   $RW_TREE"
    echo "slots:     $SLOTS_ROOT/{1..$SLOT_COUNT}"
    echo "env file:  $LAB_DIR/lab.env"
else
    echo "not running"
    exit 1
fi
ok=0
if pid=$(lab_reboot_sshd_pid); then
    echo "reboot endpoint: pid $pid, $REBOOT_HOST:$REBOOT_PORT, tree $REBOOT_TREE (boot id $(cat "$REBOOT_TREE/$BOOT_ID_FILE" 2>/dev/null || echo '?'))"
else
    echo "reboot endpoint: not running (rebooting? see $LAB_DIR/reboot-supervisor.log)"
fi
if pid=$(lab_supervisor_pids); then
    echo "reboot supervisor: pid $(echo $pid), log $LAB_DIR/reboot-supervisor.log"
else
    echo "reboot supervisor: not running"
    ok=1
fi
exit $ok
