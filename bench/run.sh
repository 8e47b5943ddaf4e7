#!/usr/bin/env bash
# Usage: bench/run.sh          (what `make bench` runs; needs the lab tree and keys: make lab)
# Benchmark: patchctl exec vs parallel-ssh vs Ansible (raw) vs OpenSSH + xargs -P,
# on N loopback hosts served by the lab sshd (see bench/bench.py for what is
# measured and how). Prints a table; writes bench/results/latest.{csv,txt}.
#
# Environment (all optional):
#   BENCH_SCENARIOS=n100,n1000,n1000-rtt50,jump100-rtt50   BENCH_TOOLS=patchctl,pssh,ansible,ssh
#     BENCH_TOOLS may add pssh-threaded (parallel-ssh with its logins in threads, a what-if)
#     and patchctl-scan (`patchctl scan` beside exec; heavy on the server: use with n100)
#   BENCH_RUNS_100=5  BENCH_RUNS_1000=3  BENCH_RUNS_1000_SLOW=1 (Ansible, xargs+ssh at N=1000)
#   BENCH_RUNS_JUMP=3 (jump100: 100 hosts behind one bastion BENCH_RTT_MS away)
#   BENCH_CONC_1000=100  BENCH_RTT_MS=50  BENCH_PROXY_PORT=22322
#   BENCH_SSHD=private|lab  BENCH_SSHD_PORT=22422 (private: the benchmark's own sshd
#     from the lab's config, keys and chroot; lab: the shared lab sshd on 2222)
#   BENCH_TIMEOUT=600 (per tool run)  BENCH_BUDGET=1500 (no new run after that)
#   BENCH_HARD_LIMIT=1750 (the whole driver is stopped after that many seconds)
#   PATCHCTL_BIN=.build/release/patchctl  BENCH_PATCHCTL_MODE=auto|exec|scan|off
#   BENCH_PSSH_HOSTKEY=1 (add a host key check to parallel-ssh, which has none)
#   BENCH_PYTHON=python3 (interpreter for the virtualenv)
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
VENV=$BENCH/.venv
PY=${BENCH_PYTHON:-python3}
cd "$REPO"

die() { echo "bench: $*" >&2; exit 1; }

# 1000 concurrent sessions need >1000 descriptors in patchctl and
# parallel-ssh, and 2 per connection in the proxy; the usual soft limit is 1024.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge 4096 ] || die "open-file limit $(ulimit -n) is too low for 1000 connections"

# The lab (make lab): its chroot tree, keys and sshd config serve the
# benchmark's own sshd; with BENCH_SSHD=lab its running sshd is used instead.
[ -f .lab/lab.env ] && [ -f .lab/sshd_config ] || die "no lab: make lab"
if [ "${BENCH_SSHD:-private}" = lab ]; then
    lab/status.sh >/dev/null || die "the lab sshd is not running: make lab"
    lab_pid=$(pgrep -o -f -- "sshd -f $REPO/.lab/sshd_config -E")
    lab_nofile=$(awk '/Max open files/ {print $4}' "/proc/$lab_pid/limits")
    # The listener keeps a pipe per unauthenticated connection (up to MaxStartups).
    [ "$lab_nofile" -ge 4096 ] ||
        echo "bench: warning: the lab sshd may open only $lab_nofile files; restart it (make lab-stop lab) from a shell with ulimit -n 65536" >&2
fi

# Private virtualenv with the peers from PyPI; reinstalled only when
# requirements.txt changes (its hash is kept next to the venv).
want=$(sha256sum "$BENCH/requirements.txt" | cut -d' ' -f1)
if [ "$(cat "$VENV/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    echo "bench: creating $VENV (parallel-ssh, ansible-core from PyPI)" >&2
    rm -rf "$VENV"
    if ! "$PY" -m venv "$VENV" 2>/dev/null; then
        # Debian's python3 needs python3-venv for ensurepip.
        apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null
        rm -rf "$VENV"
        "$PY" -m venv "$VENV"
    fi
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$BENCH/requirements.txt"
    echo "$want" >"$VENV/.requirements.sha256"
fi

# Cleanup on any exit: the driver stops its own proxy and tool runs; this
# is the backstop if the driver itself was killed.
driver=
cleanup() {
    trap - EXIT INT TERM
    [ -n "$driver" ] && kill -TERM "$driver" 2>/dev/null && wait "$driver" 2>/dev/null || true
    local work=$BENCH/results/work p
    # Each pid only if it is still what we started (pids get reused).
    if [ -f "$work/proxy.pid" ]; then
        p=$(cat "$work/proxy.pid")
        grep -qs latency_proxy.py "/proc/$p/cmdline" && kill "$p" 2>/dev/null || true
        rm -f "$work/proxy.pid"
    fi
    if [ -f "$work/sshd.pid" ]; then
        p=$(cat "$work/sshd.pid")
        grep -qs "$work/sshd_config" "/proc/$p/cmdline" && kill "$p" 2>/dev/null || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start=$(date +%s)
# timeout: a hard bound on the whole benchmark, whatever a tool does.
timeout --signal=TERM --kill-after=30 "${BENCH_HARD_LIMIT:-1750}" "$VENV/bin/python" "$BENCH/bench.py" &
driver=$!
rc=0
wait "$driver" || rc=$?
driver=
echo "bench: finished in $(( $(date +%s) - start )) s (exit $rc)" >&2
exit "$rc"
