#!/usr/bin/env bash
# A docker daemon for the image checks, on a machine that may have none:
#
#   scripts/docker-daemon.sh start [--install]   # exits 3 if no daemon can run here
#   scripts/docker-daemon.sh stop                # stops only a daemon started here
#
# --install apt-gets Debian's docker.io and docker-compose when docker or a
# compose command is missing. The daemon runs with --iptables=false: the
# checks need only the compose network's bridge and loopback-published ports.
set -euo pipefail
state=/tmp/attio-webhooks-dockerd
case "${1:-}" in
start)
    have_compose() { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; }
    if [ "${2:-}" = "--install" ] && { ! command -v dockerd >/dev/null || ! have_compose; }; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io docker-compose >/dev/null
    fi
    if docker info >/dev/null 2>&1; then
        exit 0
    fi
    if ! command -v dockerd >/dev/null; then
        echo "docker-daemon: dockerd is not installed (pass --install)" >&2
        exit 3
    fi
    mkdir -p "$state"
    dockerd --iptables=false >"$state/dockerd.log" 2>&1 &
    echo $! >"$state/pid"
    for _ in $(seq 1 60); do
        if docker info >/dev/null 2>&1; then
            exit 0
        fi
        if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
            break
        fi
        sleep 0.5
    done
    echo "docker-daemon: dockerd could not start here: $(tail -n 1 "$state/dockerd.log")" >&2
    exit 3
    ;;
stop)
    if [ -f "$state/pid" ]; then
        pid="$(cat "$state/pid")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        rm -rf "$state"
    fi
    ;;
*)
    echo "usage: scripts/docker-daemon.sh start [--install] | stop" >&2
    exit 2
    ;;
esac
