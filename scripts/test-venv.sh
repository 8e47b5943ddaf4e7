#!/usr/bin/env bash
# Usage: scripts/test-venv.sh
# The private virtualenv .venv/ (git-ignored) with the tools tests compare patchctl against:
# ansible-core (ansible-inventory, ansible --list-hosts), pinned to the version that
# bench/requirements.txt measures, and jsonschema (checks every JSON document the CLI tests
# produce against docs/schema/, Tests/patchctlTests/JSONSchema.swift). Idempotent: quick when the pinned version is already there.
# pip's cache stays inside the venv, so PyPI is needed once. Safe to run concurrently.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
VENV=$REPO/.venv
ANSIBLE=$(grep -E '^ansible-core==' "$REPO/bench/requirements.txt")
[ -n "$ANSIBLE" ] || { echo "test-venv: no ansible-core pin in bench/requirements.txt" >&2; exit 1; }
REQUIREMENT="$ANSIBLE jsonschema==4.26.0"

# Concurrent test processes may call this at once: one does the work, the others wait.
exec 9>"$REPO/.venv.lock"
flock 9

if [ "$(cat "$VENV/.requirements" 2>/dev/null)" != "$REQUIREMENT" ]; then
    PY=/usr/bin/python3
    [ -x "$PY" ] || PY=$(command -v python3)
    rm -rf "$VENV"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        # Debian's python3 needs python3-venv for ensurepip.
        apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null
        rm -rf "$VENV"
        "$PY" -m venv "$VENV"
    fi
    PIP_CACHE_DIR=$VENV/pip-cache "$VENV/bin/pip" install -q --disable-pip-version-check $REQUIREMENT >&2
    echo "$REQUIREMENT" >"$VENV/.requirements"
fi
