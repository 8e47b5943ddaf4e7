#!/usr/bin/env bash
# Usage: bench/advisories-sync.sh
# Time and memory of `patchctl advisories sync` on a full-size Debian Security Tracker JSON:
# generates one of realistic size and shape (bench/gen_debian_tracker.py, ~30k source packages,
# ~90 MB), syncs it into a new history database under /usr/bin/time -v, then syncs it again
# (the replace path: delete + insert in one transaction). Prints wall time, CPU and max RSS;
# writes them to bench/results/advisories-sync-latest.txt and a timestamped copy.
#
# Environment (optional): PATCHCTL_BIN=.build/release/patchctl  BENCH_TRACKER_PACKAGES=30000
#   BENCH_TRACKER_SEED=12  BENCH_TRACKER_FILE (reuse a file instead of generating one)
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
cd "$REPO"
die() { echo "bench: $*" >&2; exit 1; }

BIN=${PATCHCTL_BIN:-.build/release/patchctl}
[ -x "$BIN" ] || die "no $BIN: build it first (swift build -c release)"
[ -x /usr/bin/time ] || die "/usr/bin/time missing: run lab/deps.sh (it installs 'time')"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
FEED=${BENCH_TRACKER_FILE:-$WORK/tracker.json}
if [ -z "${BENCH_TRACKER_FILE:-}" ]; then
    python3 "$BENCH/gen_debian_tracker.py" --packages "${BENCH_TRACKER_PACKAGES:-30000}" --seed "${BENCH_TRACKER_SEED:-12}" >"$FEED"
fi
SIZE=$(stat -c %s "$FEED")

measure() {  # label
    local out=$WORK/$1.time
    /usr/bin/time -v "$BIN" advisories sync --from "debian-tracker=$FEED" --db "$WORK/history.db" --output json \
        >"$WORK/$1.json" 2>"$out" || { cat "$out" >&2; die "$1 sync failed"; }
    local wall user sys rss records
    wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out")
    user=$(sed -n 's/.*User time (seconds): //p' "$out")
    sys=$(sed -n 's/.*System time (seconds): //p' "$out")
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out")
    records=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["records"])' "$WORK/$1.json")
    printf '%-8s wall %-8s user %6ss sys %6ss max RSS %6d MiB  records %s\n' "$1" "$wall" "$user" "$sys" $((rss / 1024)) "$records"
}

mkdir -p "$BENCH/results"
{
    echo "advisories sync, debian-tracker $((SIZE / 1048576)) MiB ($SIZE bytes), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "binary: $BIN ($("$BIN" --version 2>/dev/null | head -1))"
    measure first
    measure replace
    echo "database: $(( $(stat -c %s "$WORK/history.db") / 1048576 )) MiB"
} | tee "$BENCH/results/advisories-sync-latest.txt"
cp "$BENCH/results/advisories-sync-latest.txt" "$BENCH/results/advisories-sync-$(date -u +%Y%m%dT%H%M%SZ).txt"
