#!/usr/bin/env bash
# A throwaway PostgreSQL for the reliability tests and benchmarks.
#
#   eval "$(bash .ci/postgres.sh)"     # exports BATON_TEST_POSTGRES_URL
#   bash .ci/postgres.sh stop          # stops the cluster and deletes its directory
#
# Installs PostgreSQL with apt when it is missing, initdb's a cluster in a temporary directory
# as user postgres (fsync off, trust auth, listening on 127.0.0.1 only, a free port), starts it
# with pg_ctl and creates the database baton_test. Only the export line goes to stdout; progress
# goes to stderr. Idempotent: when the cluster is already running it just prints the line again.
set -euo pipefail

# One cluster per checkout: a benchmark's `stop` in one clone never stops a CI run in another.
CHECKOUT="$(cd "$(dirname "$0")/.." && pwd)"
STATE_DIR="${BATON_PG_DIR:-${TMPDIR:-/tmp}/baton-postgres-$(printf '%s' "$CHECKOUT" | cksum | cut -d' ' -f1)}"
DB_NAME="baton_test"
PG_USER="postgres"

say() { echo "postgres.sh: $*" >&2; }

pg_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
    if [[ -n "$dir" && -x "$dir/pg_ctl" ]]; then echo "$dir"; return; fi
    if command -v pg_ctl >/dev/null 2>&1; then dirname "$(command -v pg_ctl)"; return; fi
    return 1
}

install_postgres() {
    say "installing PostgreSQL with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
}

# Run a command as the cluster owner (postgres when we are root, else ourselves).
as_owner() {
    if [[ "$(id -u)" == "0" ]]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 - <<'PY'
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

print_export() {
    echo "export BATON_TEST_POSTGRES_URL=postgresql+psycopg://${PG_USER}@127.0.0.1:$(cat "$STATE_DIR/port")/${DB_NAME}"
}

running() {
    [[ -f "$STATE_DIR/port" && -d "$STATE_DIR/data" ]] && as_owner "$BIN/pg_ctl" -D "$STATE_DIR/data" status >/dev/null 2>&1
}

init_cluster() {
    rm -rf "$STATE_DIR"
    mkdir -p "$STATE_DIR"
    if [[ "$(id -u)" == "0" ]]; then chown "$PG_USER" "$STATE_DIR"; fi
    as_owner "$BIN/initdb" -D "$STATE_DIR/data" -U "$PG_USER" --auth=trust -E UTF8 --no-locale --no-sync >"$STATE_DIR/initdb.log" 2>&1 \
        || { cat "$STATE_DIR/initdb.log" >&2; exit 1; }
    free_port >"$STATE_DIR/port"
}

start_cluster() {
    local port options
    port="$(cat "$STATE_DIR/port")"
    options="-c listen_addresses=127.0.0.1 -p $port -k $STATE_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    as_owner "$BIN/pg_ctl" -D "$STATE_DIR/data" -l "$STATE_DIR/server.log" -o "$options" -w -t 30 start >/dev/null \
        || { cat "$STATE_DIR/server.log" >&2; exit 1; }
    say "PostgreSQL running on 127.0.0.1:$port (data in $STATE_DIR)"
}

create_database() {
    local port
    port="$(cat "$STATE_DIR/port")"
    if ! as_owner "$BIN/psql" -h 127.0.0.1 -p "$port" -U "$PG_USER" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
        as_owner "$BIN/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER" "$DB_NAME"
    fi
}

stop_cluster() {
    if [[ -d "$STATE_DIR/data" ]]; then
        as_owner "$BIN/pg_ctl" -D "$STATE_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$STATE_DIR"
    say "stopped"
}

main() {
    BIN="$(pg_bindir || true)"
    if [[ -z "$BIN" ]]; then
        install_postgres
        BIN="$(pg_bindir)"
    fi
    if [[ "${1:-start}" == "stop" ]]; then
        stop_cluster
        return
    fi
    if ! running; then
        init_cluster
        start_cluster
    fi
    create_database
    print_export
}

main "$@"
