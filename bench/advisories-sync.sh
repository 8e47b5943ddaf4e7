#!/usr/bin/env bash
# Usage: bench/advisories-sync.sh
# Time and memory of `patchctl advisories sync` on a full-size Debian Security Tracker JSON:
# generates one of realistic size and shape (bench/gen_debian_tracker.py, ~30k source packages,
# ~90 MB), syncs it into a new history database under /usr/bin/time -v, then syncs it again
# (the replace path: delete + insert in one transaction). Where PostgreSQL's server is installed
# and this runs as root, the same two syncs into a database of a throwaway cluster (initdb as
# nobody in the work folder, 127.0.0.1, trust, no TLS): a shared history's feeds. Prints wall
# time, CPU and max RSS (the controller's; the server's own time is in the wall time); writes them
# to bench/results/advisories-sync-latest.txt and a timestamped copy.
#
# Environment (optional): PATCHCTL_BIN=.build/release/patchctl  BENCH_TRACKER_PACKAGES=30000
#   BENCH_TRACKER_SEED=12  BENCH_TRACKER_FILE (reuse a file instead of generating one)
#   BENCH_ADVISORIES_POSTGRES=1 (0: SQLite only)
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
cd "$REPO"
die() { echo "bench: $*" >&2; exit 1; }

BIN=${PATCHCTL_BIN:-.build/release/patchctl}
[ -x "$BIN" ] || die "no $BIN: build it first (swift build -c release)"
[ -x /usr/bin/time ] || die "/usr/bin/time missing: run lab/deps.sh (it installs 'time')"

WORK=$(mktemp -d)
. "$BENCH/pg-cluster.sh"
cleanup() {
    pg_cluster_stop
    rm -rf "$WORK"
}
trap cleanup EXIT
FEED=${BENCH_TRACKER_FILE:-$WORK/tracker.json}
if [ -z "${BENCH_TRACKER_FILE:-}" ]; then
    python3 "$BENCH/gen_debian_tracker.py" --packages "${BENCH_TRACKER_PACKAGES:-30000}" --seed "${BENCH_TRACKER_SEED:-12}" >"$FEED"
fi
SIZE=$(stat -c %s "$FEED")

measure() {  # label [database]
    local out=$WORK/$1.time
    HOME=$WORK XDG_STATE_HOME=$WORK/state /usr/bin/time -v "$BIN" advisories sync --from "debian-tracker=$FEED" \
        --db "${2:-$WORK/history.db}" --output json >"$WORK/$1.json" 2>"$out" || { cat "$out" >&2; die "$1 sync failed"; }
    local wall user sys rss records
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out")
    user=$(sed -n 's/.*User time (seconds): //p' "$out")
    sys=$(sed -n 's/.*System time (seconds): //p' "$out")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out")
    records=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["records"])' "$WORK/$1.json")
    printf '%-11s wall %-8s user %6ss sys %6ss max RSS %6d MiB  records %s\n' "$1" "$wall" "$user" "$sys" $((rss / 1024)) "$records"
}

mkdir -p "$BENCH/results"
{
    echo "advisories sync, debian-tracker $((SIZE / 1048576)) MiB ($SIZE bytes), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "binary: $BIN ($("$BIN" --version 2>/dev/null | head -1))"
    measure first
    measure replace
    echo "database: $(( $(stat -c %s "$WORK/history.db") / 1048576 )) MiB"
    if [ "${BENCH_ADVISORIES_POSTGRES:-1}" = 1 ] && pg_cluster_possible; then
        # This block is a subshell (its output goes through tee): it stops its own server.
        trap pg_cluster_stop EXIT
        pg_cluster_start "$WORK"
        echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), a cluster of the run's own on 127.0.0.1:"
        measure pg-first "$PG_URL"
        measure pg-replace "$PG_URL"
        echo "database: $(pg_sql "SELECT pg_database_size('history') / 1048576") MiB"
        pg_cluster_stop
        PG_DATA=""
    fi
} | tee "$BENCH/results/advisories-sync-latest.txt"
cp "$BENCH/results/advisories-sync-latest.txt" "$BENCH/results/advisories-sync-$(date -u +%Y%m%dT%H%M%SZ).txt"
