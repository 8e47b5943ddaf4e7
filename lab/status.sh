#!/usr/bin/env bash
# Usage: lab/status.sh
# Prints whether the lab sshd runs (pid, ports, trees); exit 0 if it does, 1 if not.
set -euo pipefail
. "$(dirname "$0")/common.sh"
if pid=$(lab_sshd_pid); then
    echo "running: pid $pid, ports $BASE_PORT (base) $RW_PORT (rw) $SLOW_PORT (slow)"
    echo "base tree: $BASE_TREE ($(cat "$BASE_MARKER" 2>/dev/null || echo 'NOT BUILT'))"
    echo "rw tree:   $RW_TREE"
    echo "env file:  $LAB_DIR/lab.env"
else
    echo "not running"
    exit 1
fi
