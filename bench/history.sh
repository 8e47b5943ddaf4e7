#!/usr/bin/env bash
# Usage: bench/history.sh          (what `make bench-history` runs; needs no lab)
# History at fleet scale (issue 15): generates nightly scan histories of realistic shape with the
# project's generator (bench/HistoryGen, `patchctl-history-gen`, written through PatchCore's own
# HistoryStore), keeps them in a cache, and measures on each, with the release build:
#   - `patchctl report compliance` as table, JSON and HTML: wall seconds and peak RSS (/usr/bin/time),
#   - `patchctl history --last 20`, `patchctl diff --since last` and `history show` of the last run (JSON),
#   - one nightly scan's write of every host (the generator times the `record` calls of each night: the
#     last night's, and the distribution over all nights with the slowest and how many took over 2 s),
#   - the database size (the file plus its -wal);
# and the migration of a legacy history (schema v9, one findings row per run, host and package) of
# 1,000 hosts × 180 nights: `patchctl history migrate` where this patchctl has it, else the first
# command that opens it (which migrates on open), timed on a copy.
# Prints one Markdown table with the issue's targets beside the figures; writes it to
# bench/results/history-<date>.md. Reports run `--as-of` the last generated night, so a cached
# history reads the same whatever the date.
#
# Environment (all optional):
#   SIZES="1000x180 10000x365"   the histories measured (HOSTSxNIGHTS)
#   BENCH_HISTORY_CACHE=/var/tmp/patchctl-bench-history   generated histories, reused while the
#       generator and the store code are unchanged (the key holds hosts, nights, mode, seed and a hash of both)
#   BENCH_HISTORY_SEED=1   BENCH_HISTORY_MIGRATION=1000x180 (empty: no migration figure)
#   BENCH_HISTORY_EXPORT=1000x180 (empty: no figure) `history export --to postgres://` of that history into a
#       PostgreSQL cluster made for the run (initdb as nobody in the work folder, 127.0.0.1, trust, no TLS);
#       then compliance JSON, `history --last 20` and `diff --since last` read from the PostgreSQL copy
#   BENCH_HISTORY_PG_WRITE=1000x30 (empty: no figure) the generator writing that history through the same store code
#       into a new database of that PostgreSQL cluster (one connection, loopback): the last night's write of every
#       host and the mean night, beside the same history written to SQLite
#   BENCH_HISTORY_MERGE=1000x30 (empty: no figure) two generated histories of the same hosts, the second's nights all
#       after the first's, exported and merged into a database of that cluster in both orders (`history export --merge`,
#       hosts handed over), and the two orders' compliance reports compared
#   BENCH_HISTORY_BUILD=1 (0: use the release binaries as they are)   SWIFT=swift
set -euo pipefail
BENCH=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$BENCH")
cd "$REPO"
die() { echo "bench: $*" >&2; exit 1; }

SIZES=${SIZES:-1000x180 10000x365}
CACHE=${BENCH_HISTORY_CACHE:-/var/tmp/patchctl-bench-history}
SEED=${BENCH_HISTORY_SEED:-1}
MIGRATION=${BENCH_HISTORY_MIGRATION-1000x180}
SWIFT=${SWIFT:-$(command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)}
BIN=.build/release/patchctl
GEN=.build/release/patchctl-history-gen
[ -x /usr/bin/time ] || die "/usr/bin/time missing: run lab/deps.sh (it installs 'time')"

if [ "${BENCH_HISTORY_BUILD:-1}" = 1 ]; then
    # The Makefile's `build` flags for patchctl (libssh2 >= 1.11 through scripts/libssh2.sh), then the generator.
    PKG_CONFIG_PATH="$(scripts/libssh2.sh)" "$SWIFT" build -c release --product patchctl
    PKG_CONFIG_PATH="$(scripts/libssh2.sh)" "$SWIFT" build -c release --product patchctl-history-gen
fi
[ -x "$BIN" ] && [ -x "$GEN" ] || die "no $BIN or $GEN: build them (swift build -c release --product ...)"

# A cached history is valid while the generator and (current mode) the store code that wrote it are unchanged.
gen_hash=$(cat bench/HistoryGen/*.swift | sha256sum | cut -c1-10)
store_hash=$(cat Sources/PatchCore/Store/*.swift | sha256sum | cut -c1-10)
mkdir -p "$CACHE"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-history.XXXXXX")
. "$BENCH/pg-cluster.sh"
cleanup() {
    pg_cluster_stop
    rm -rf "$WORK"
}
trap cleanup EXIT

# cached_history HOSTS NIGHTS MODE -> path of the cached database (generated now if missing); its
# generator output is beside it (.out).
cached_history() {
    local hosts=$1 nights=$2 mode=$3 key
    key="${hosts}x${nights}-${mode}-s${SEED}-g${gen_hash}"
    [ "$mode" = current ] && key="$key-st${store_hash}"
    local db=$CACHE/$key.db
    if [ ! -f "$db" ] || [ ! -f "$db.out" ]; then
        echo "bench: generating $hosts hosts × $nights nights ($mode) into $db" >&2
        rm -f "$db.tmp" "$db.tmp-wal" "$db.tmp-shm" "$db.tmp.lock"
        "$GEN" --db "$db.tmp" --hosts "$hosts" --nights "$nights" --mode "$mode" --seed "$SEED" >"$db.out.tmp" ||
            die "the generator failed (partial database $db.tmp)"
        [ ! -s "$db.tmp-wal" ] || die "$db.tmp-wal left behind: the generator did not close the database"
        rm -f "$db.tmp-wal" "$db.tmp-shm" "$db.tmp.lock"
        mv "$db.tmp" "$db"
        mv "$db.out.tmp" "$db.out"
    else
        echo "bench: reusing $db" >&2
    fi
    echo "$db"
}

field() { sed -n "s/^$1: //p" "$2"; }

# timed LABEL COMMAND... -> sets WALL (s) and RSS (MB); the command's stdout goes to $WORK/LABEL.out.
timed() {
    local label=$1
    shift
    /usr/bin/time -f "%e %M" -o "$WORK/$label.time" "$@" >"$WORK/$label.out" 2>"$WORK/$label.err" ||
        { cat "$WORK/$label.err" >&2; die "$label failed: $*"; }
    read -r WALL RSS <"$WORK/$label.time"
    RSS=$((RSS / 1024))
}

size_mb() { local total=0 f; for f in "$1" "$1-wal"; do [ -f "$f" ] && total=$((total + $(du -b "$f" | cut -f1))); done; echo $((total / 1048576)); }
thousands() { echo "$1" | sed -e ':a' -e 's/\B[0-9]\{3\}\>/,&/' -e 'ta'; }
# The id of the history's latest run, read with Python's sqlite3.
last_run() {
    python3 -c 'import sqlite3, sys; print(sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True).execute("SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1").fetchone()[0])' "$1"
}

# The last migration a history database has had (GRDB's table), read with Python's sqlite3.
last_migration() {
    python3 -c 'import sqlite3, sys; print(sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True).execute("SELECT identifier FROM grdb_migrations ORDER BY rowid DESC LIMIT 1").fetchone()[0])' "$1"
}

declare -A TARGET_REPORT=([1000x180]="≤ 1.5 s, ≤ 150 MB" [10000x365]="≤ 5 s, ≤ 300 MB")
declare -A TARGET_SIZE=([1000x180]="≤ 250 MB" [10000x365]="≤ 3 GB")
declare -A TARGET_WRITE=([1000x180]="—" [10000x365]="≤ 2 s")

rows=()
for size in $SIZES; do
    hosts=${size%x*}
    nights=${size#*x}
    db=$(cached_history "$hosts" "$nights" current)
    asof=$(field last_night "$db.out")
    echo "bench: measuring $size (as of $asof)" >&2
    # Page cache warm, as on the controller that has just written it: figures then measure patchctl, not the disk.
    cat "$db" >/dev/null
    report=()
    for format in table json html; do
        timed "compliance-$size-$format" "$BIN" report compliance --db "$db" --as-of "$asof" --format "$format"
        report+=("$format $WALL s / $RSS MB")
    done
    timed "history-$size" "$BIN" history --last 20 --db "$db"
    last20="$WALL s"
    timed "diff-$size" "$BIN" diff --since last --db "$db"
    diff="$WALL s / $RSS MB"
    # `history show` of the last night's run as JSON: every host and finding, read and written a batch of hosts at a time.
    timed "show-$size" "$BIN" history show "$(last_run "$db")" --db "$db" --output json
    show="$WALL s / $RSS MB"
    write="$(field last_night_write_seconds "$db.out") s the last night"
    # Nights are not alike (a point release opens ten times an ordinary night's intervals): the distribution too.
    nightly=$(field night_write_seconds "$db.out")
    [ -z "$nightly" ] || write="$write; all nights $nightly; over 2 s: $(field nights_written_in_over_2s "$db.out")"
    rows+=("| $(thousands "$hosts") hosts × $nights nights | $(thousands "$(field findings_written "$db.out")") | ${report[0]}; ${report[1]}; ${report[2]} (${TARGET_REPORT[$size]:-—}) | $last20 (≤ 0.1 s) | $write (${TARGET_WRITE[$size]:-—}) | $(size_mb "$db") MB (${TARGET_SIZE[$size]:-—}) | $diff | $show | $(field seconds "$db.out") s |")
done

migration="not measured"
if [ -n "$MIGRATION" ]; then
    hosts=${MIGRATION%x*}
    nights=${MIGRATION#*x}
    legacy=$(cached_history "$hosts" "$nights" legacy)
    cp "$legacy" "$WORK/legacy.db"
    cat "$WORK/legacy.db" >/dev/null
    if "$BIN" history --help 2>/dev/null | grep -qw migrate; then
        how="patchctl history migrate"
        timed migration "$BIN" history migrate --db "$WORK/legacy.db"
    else
        how="first open (patchctl history --last 1)"
        timed migration "$BIN" history --last 1 --db "$WORK/legacy.db"
    fi
    after=$(last_migration "$WORK/legacy.db")
    if [ "$after" = "v9: advisory feeds and finding CVEs" ]; then
        after="nothing to migrate: this patchctl's schema ends at v9"
    else
        after="schema now '$after', $(size_mb "$WORK/legacy.db") MB"
    fi
    migration="$(thousands "$hosts") hosts × $nights nights, $(thousands "$(field findings_written "$legacy.out")") findings rows, $(size_mb "$legacy") MB: $how $WALL s, peak RSS $RSS MB ($after; target ≤ 300 s)"
fi

EXPORT=${BENCH_HISTORY_EXPORT-1000x180}
export_figure="not measured"
if [ -n "$EXPORT" ] && pg_cluster_possible; then
    hosts=${EXPORT%x*}
    nights=${EXPORT#*x}
    source_db=$(cached_history "$hosts" "$nights" current)
    pg_cluster_start "$WORK"
    cat "$source_db" >/dev/null
    echo "bench: exporting $EXPORT into PostgreSQL" >&2
    timed export "$BIN" history export --db "$source_db" --to "$PG_URL" --output json
    rows_copied=$(python3 -c 'import json, sys; print(sum(t["rows"] for t in json.load(open(sys.argv[1]))["tables"]))' "$WORK/export.out")
    pg_mb=$(pg_sql "SELECT pg_database_size('history') / 1048576")
    export_figure="$(thousands "$hosts") hosts × $nights nights ($(size_mb "$source_db") MB, $(thousands "$rows_copied") rows in all tables): $WALL s, peak RSS $RSS MB, copied, read back and matched in one transaction; $pg_mb MB in PostgreSQL"
    # The same questions asked of the PostgreSQL copy: the reports read it through the same queries.
    pg_url=$PG_URL
    pg_asof=$(field last_night "$source_db.out")
    timed pg-compliance "$BIN" report compliance --db "$pg_url" --as-of "$pg_asof" --format json
    pg_report="$WALL s / $RSS MB"
    timed pg-history "$BIN" history --last 20 --db "$pg_url"
    pg_last20="$WALL s"
    timed pg-diff "$BIN" diff --since last --db "$pg_url"
    export_figure="$export_figure. Read from PostgreSQL (loopback, no TLS): compliance JSON $pg_report, \`history --last 20\` $pg_last20, \`diff --since last\` $WALL s / $RSS MB"
fi

PG_WRITE=${BENCH_HISTORY_PG_WRITE-1000x30}
pg_write_figure="not measured"
if [ -n "$PG_WRITE" ] && pg_cluster_possible; then
    hosts=${PG_WRITE%x*}
    nights=${PG_WRITE#*x}
    sqlite_db=$(cached_history "$hosts" "$nights" current)
    [ -n "$PG_DATA" ] || pg_cluster_start "$WORK"
    pg_sql "CREATE DATABASE generated" postgres >/dev/null
    echo "bench: generating $PG_WRITE into PostgreSQL" >&2
    timed pg-generate "$GEN" --db "${PG_URL%/history*}/generated?sslmode=disable" --hosts "$hosts" --nights "$nights" --seed "$SEED"
    mean() { awk -v w="$(field write_seconds "$1")" -v n="$(field runs "$1")" 'BEGIN { printf "%.2f", w / n }'; }
    pg_write_figure="$(thousands "$hosts") hosts × $nights nights: the last night's write $(field last_night_write_seconds "$WORK/pg-generate.out") s, mean night $(mean "$WORK/pg-generate.out") s, $(pg_sql "SELECT pg_database_size('generated') / 1048576" generated) MB, generator peak RSS $RSS MB (SQLite, the same history: $(field last_night_write_seconds "$sqlite_db.out") s, mean $(mean "$sqlite_db.out") s, $(size_mb "$sqlite_db") MB)"
fi

MERGE=${BENCH_HISTORY_MERGE-1000x30}
merge_figure="not measured"
if [ -n "$MERGE" ] && pg_cluster_possible; then
    hosts=${MERGE%x*}
    nights=${MERGE#*x}
    [ -n "$PG_DATA" ] || pg_cluster_start "$WORK"
    # Two controllers' histories of the same hosts, the second's nights all after the first's (a handover).
    echo "bench: generating two $MERGE histories, one after the other, to merge" >&2
    "$GEN" --db "$WORK/before.db" --hosts "$hosts" --nights "$nights" --seed "$SEED" --start 2025-11-01 >/dev/null
    "$GEN" --db "$WORK/after.db" --hosts "$hosts" --nights "$nights" --seed "$SEED" --start "$(date -u -d "2025-11-01 + $nights days" +%F)" >/dev/null
    merged_url="${PG_URL%/history*}/merged?sslmode=disable"
    asof=$(date -u -d "2025-11-01 + $((2 * nights - 1)) days" +%F)
    merge_times=() reports=()
    for order in "before after" "after before"; do
        set -- $order
        pg_sql "DROP DATABASE IF EXISTS merged" postgres >/dev/null
        pg_sql "CREATE DATABASE merged" postgres >/dev/null
        timed merge-export "$BIN" history export --db "$WORK/$1.db" --to "$merged_url"
        exported=$WALL
        timed merge "$BIN" history export --db "$WORK/$2.db" --to "$merged_url" --merge
        merge_times+=("$2 into $1: $WALL s, peak RSS $RSS MB (its export alone $exported s)")
        # Run ids end in a random part of their own: left out, the two orders' reports must be the same.
        reports+=("$("$BIN" report compliance --db "$merged_url" --as-of "$asof" --format json |
            sed -e '/"database" :/d' -e 's/\(20[0-9]\{6\}T[0-9]\{6\}Z\)-[0-9a-f]\{6\}/\1/g' | md5sum | cut -c1-32)")
    done
    same=$([ "${reports[0]}" = "${reports[1]}" ] && echo "the same compliance report" || echo "DIFFERENT compliance reports")
    merge_figure="$(thousands "$hosts") hosts × $nights nights each, every host handed over: ${merge_times[0]}; ${merge_times[1]}; both orders give $same"
fi

mkdir -p "$BENCH/results"
result=$BENCH/results/history-$(date -u +%Y%m%dT%H%M%SZ).md
{
    echo "History benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $($BIN --version 2>/dev/null | head -1), seed $SEED"
    echo
    echo "| history | findings written | compliance report (table; JSON; HTML: wall / peak RSS) | \`history --last 20\` | one nightly scan's write of every host | DB size | \`diff --since last\` | \`history show\` of the last night (JSON) | generation |"
    echo "|---|---:|---|---|---|---|---|---|---:|"
    printf '%s\n' "${rows[@]}"
    echo
    echo "Targets in parentheses. Migration of the legacy (v9, per-run rows) history: $migration."
    echo
    echo "Export to PostgreSQL (\`history export --to\`): $export_figure."
    echo
    echo "Nightly writes into PostgreSQL (the generator through HistoryStore, loopback, no TLS): $pg_write_figure."
    echo
    echo "Merging a history whose hosts another controller scanned before (\`history export --merge\`, hosts handed over): $merge_figure."
} | tee "$result"
echo "bench: written to $result" >&2
