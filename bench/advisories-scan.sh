#!/usr/bin/env bash
# Usage: bench/advisories-scan.sh   (needs the lab: .lab/lab.env, its sshd on LAB_PORT)
# Controller CPU of `patchctl scan` per host with advisories on (a realistic Debian 12 feed in the
# history database, bench/advisories_feed.py) against off (the same database without feeds).
# All hosts are the lab's Debian endpoint (127.0.0.1:LAB_PORT) under distinct inventory names.
# user+sys of the patchctl process from /usr/bin/time, for N1 and N2 hosts, RUNS runs each, the
# median taken; the per-host cost is the slope between N1 and N2 (a run's fixed costs, such as
# loading the feed once, cancel out) and the load is the difference at N1 minus N1 x slope.
# Environment: PATCHCTL_BIN=.build/release/patchctl  N1=8 N2=32 RUNS=3 FORKS=8
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
. .lab/lab.env
BIN=${PATCHCTL_BIN:-.build/release/patchctl}
N1=${N1:-8}; N2=${N2:-32}; RUNS=${RUNS:-3}; FORKS=${FORKS:-8}
[ -x "$BIN" ] || { echo "advisories-scan: no binary $BIN (swift build -c release, or PATCHCTL_BIN)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/patchctl-advbench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
echo "[127.0.0.1]:$LAB_PORT $(cut -d' ' -f1,2 "$LAB_HOST_KEY_PUB_FILE")" >"$WORK/known_hosts"
inventory() {
    { echo "all:"; echo "  vars: {ansible_host: 127.0.0.1, ansible_port: $LAB_PORT, ansible_user: root, ansible_ssh_private_key_file: $LAB_KEY}"
      echo "  hosts:"; for i in $(seq 1 "$1"); do echo "    h$i: {}"; done; } >"$WORK/inv$1.yml"
}
inventory "$N1"; inventory "$N2"; inventory 1
scan() { "$BIN" scan -i "$WORK/inv$1.yml" --known-hosts "$WORK/known_hosts" --ssh-config none --db "$2" --forks "$FORKS" --output json; }
# The schema comes from a first scan; the feed goes into a copy.
scan 1 "$WORK/off.db" >/dev/null
# Everything into the main file (WAL), so that copies are whole.
checkpoint() { python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("PRAGMA wal_checkpoint(TRUNCATE)")' "$1"; }
checkpoint "$WORK/off.db"
cp "$WORK/off.db" "$WORK/on.db"
chroot "$LAB_ROOT" dpkg-query -W -f='${source:Package}\t${source:Version}\n' | sort -u >"$WORK/sources.txt"
python3 bench/advisories_feed.py "$WORK/on.db" "$WORK/sources.txt"
checkpoint "$WORK/on.db"
# One JSON per mode, checked: every host ok, and matching on only where the feed is.
check() {
    python3 - "$1" "$2" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
cves = sum(len(u["cves"]) for h in run["hosts"] for u in h["updates"])
unfixed = sum(len(h["unfixed_cves"]) for h in run["hosts"])
bad = [h["name"] for h in run["hosts"] if h["status"] != "ok"]
assert not bad, f"hosts not ok: {bad}"
assert (cves + unfixed > 0) == (sys.argv[2] == "on"), (sys.argv[2], cves, unfixed)
print(f"{sys.argv[2]}: {len(run['hosts'])} hosts, {cves} update CVEs, {unfixed} unfixed CVEs")
PY
}
measure() { # N MODE -> median user+sys seconds
    local n=$1 mode=$2 samples=()
    for _ in $(seq 1 "$RUNS"); do
        rm -f "$WORK/run.db" "$WORK/run.db-wal" "$WORK/run.db-shm"
        cp "$WORK/$mode.db" "$WORK/run.db"
        /usr/bin/time -f "%U %S" -o "$WORK/time" "$BIN" scan -i "$WORK/inv$n.yml" --known-hosts "$WORK/known_hosts" --ssh-config none \
            --db "$WORK/run.db" --forks "$FORKS" --output json >"$WORK/out.json"
        check "$WORK/out.json" "$mode" >"$WORK/check"
        samples+=("$(awk '{printf "%.3f", $1 + $2}' "$WORK/time")")
    done
    cat "$WORK/check" >&2
    printf '%s\n' "${samples[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}
# The matcher alone, in process (the test bundle's build: debug unless built with -c release).
XCTEST=${PATCHCTL_XCTEST:-$(dirname "$BIN")/patchctlPackageTests.xctest}
if [ -x "$XCTEST" ]; then
    PATCHCTL_BENCH_ADVISORY_DB="$WORK/on.db" "$XCTEST" --testing-library swift-testing --filter matchingCPUPerHost 2>&1 | grep '^matching:' || true
fi
declare -A cpu
for mode in off on; do for n in "$N1" "$N2"; do cpu[$mode$n]=$(measure "$n" "$mode"); done; done
python3 - "$N1" "$N2" "${cpu[off$N1]}" "${cpu[off$N2]}" "${cpu[on$N1]}" "${cpu[on$N2]}" <<'PY'
import sys
n1, n2 = int(sys.argv[1]), int(sys.argv[2])
off1, off2, on1, on2 = map(float, sys.argv[3:])
slope_off, slope_on = (off2 - off1) / (n2 - n1), (on2 - on1) / (n2 - n1)
print(f"controller CPU (user+sys, median): off {off1:.3f} s / {off2:.3f} s, on {on1:.3f} s / {on2:.3f} s for {n1} / {n2} hosts")
print(f"per host: off {slope_off * 1000:.2f} ms, on {slope_on * 1000:.2f} ms: matching adds {(slope_on - slope_off) * 1000:.2f} ms per host")
print(f"per run (loading the feed once): {((on1 - off1) - n1 * (slope_on - slope_off)) * 1000:.0f} ms")
PY
