#!/usr/bin/env bash
# The servers the stores' tests need, on loopback, with throwaway data:
#   Redis      127.0.0.1:6390  (ATTIO_TEST_REDIS_URL=redis://127.0.0.1:6390/)
#   PostgreSQL 127.0.0.1:5440  (ATTIO_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5440/postgres)
#
#   scripts/test-servers.sh start [--install]   # --install: apt-get what is missing
#   scripts/test-servers.sh stop
#
# Data lives in $ATTIO_TEST_SERVERS_DIR (default /tmp/attio-webhooks-test-servers)
# and is deleted by `stop`. PostgreSQL trusts local connections: a test
# server, never one to keep data in.
set -euo pipefail

dir="${ATTIO_TEST_SERVERS_DIR:-/tmp/attio-webhooks-test-servers}"
redis_port=6390
pg_port=5440

pg_bin() {
    local found
    found="$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1)"
    if [ -n "$found" ]; then
        echo "$found"
    elif command -v pg_ctl >/dev/null; then
        dirname "$(command -v pg_ctl)"
    fi
}

# initdb and postgres refuse to run as root: run them as the `postgres`
# user Debian's package makes.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_missing() {
    local packages=()
    command -v redis-server >/dev/null || packages+=(redis-server)
    [ -n "$(pg_bin)" ] || packages+=(postgresql)
    if [ ${#packages[@]} -gt 0 ]; then
        echo "installing ${packages[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
    fi
}

start() {
    [ "${1:-}" = --install ] && install_missing
    mkdir -p "$dir/redis" "$dir/pg"
    if ! redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
        redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
            --dir "$dir/redis" --daemonize yes --pidfile "$dir/redis/pid" >/dev/null
    fi
    local bin
    bin="$(pg_bin)"
    [ -n "$bin" ] || { echo "no PostgreSQL server binaries (apt-get install postgresql)"; exit 1; }
    [ "$(id -u)" = 0 ] && chown postgres "$dir/pg"
    if [ ! -f "$dir/pg/data/PG_VERSION" ]; then
        as_pg "$bin/initdb" -D "$dir/pg/data" -A trust -U postgres >"$dir/pg/initdb.log"
    fi
    if ! as_pg "$bin/pg_ctl" -D "$dir/pg/data" status >/dev/null 2>&1; then
        as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w start -o \
            "-p $pg_port -k $dir/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" >/dev/null
    fi
    for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    echo "redis: $(redis-cli -p "$redis_port" ping)  postgres: $(as_pg "$bin/pg_ctl" -D "$dir/pg/data" status | head -1)"
}

stop() {
    redis-cli -p "$redis_port" shutdown nosave >/dev/null 2>&1 || true
    local bin
    bin="$(pg_bin)"
    if [ -n "$bin" ] && [ -d "$dir/pg/data" ]; then
        as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) stop ;;
    *) echo "usage: $0 start [--install] | stop"; exit 2 ;;
esac
