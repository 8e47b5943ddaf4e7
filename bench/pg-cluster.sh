# Sourced by the benchmarks that measure a PostgreSQL history: a throwaway cluster of the run's
# own (initdb as nobody in a folder of the run's, 127.0.0.1 on a free port, trust, no TLS), so the
# server's own time is part of a figure, as it would be at a site. Root only.
#   pg_cluster_start WORK   starts it in WORK/pg with a database `history`; sets PG_DATA, PG_PORT
#                           and PG_URL (postgres://bench@127.0.0.1:PORT/history?sslmode=disable)
#   pg_sql SQL [DATABASE]   one value from the `history` database (or DATABASE), unaligned
#   pg_cluster_stop         stops it (the caller's EXIT trap; nothing if none was started)
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PG_DATA=""

pg_cluster_possible() { [ -x "$PG_BIN/initdb" ] && [ "$(id -u)" = 0 ]; }

pg_cluster_start() {
    local work=$1
    chmod 755 "$work"
    PG_DATA=$work/pg
    PG_SOCK=$work/pgsock
    mkdir -p "$PG_DATA" "$PG_SOCK" && chown nobody "$PG_DATA" "$PG_SOCK"
    runuser -u nobody -- "$PG_BIN/initdb" -D "$PG_DATA" -U bench -E UTF8 --no-locale --auth=trust >/dev/null
    PG_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\n" "$PG_PORT" "$PG_SOCK" >>"$PG_DATA/postgresql.auto.conf"
    runuser -u nobody -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_SOCK/log" -w start >/dev/null
    "$PG_BIN/psql" -X -q -h "$PG_SOCK" -p "$PG_PORT" -U bench -d postgres -c "CREATE DATABASE history" >/dev/null
    PG_URL="postgres://bench@127.0.0.1:$PG_PORT/history?sslmode=disable"
}

pg_sql() { "$PG_BIN/psql" -X -q -A -t -h "$PG_SOCK" -p "$PG_PORT" -U bench -d "${2:-history}" -c "$1"; }

pg_cluster_stop() {
    [ -z "$PG_DATA" ] || runuser -u nobody -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
}
