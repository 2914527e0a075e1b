#!/usr/bin/env bash
# Builds the `fake-attio` wheel (the static fake-attio binary and the
# pytest fixture module in python/fake_attio) into target/wheels/, from the
# repository root, with no arguments. maturin comes from PyPI into
# target/wheel-tools. With --test, also installs the wheel into a fresh
# venv, checks that `fake-attio --version` there prints the wheel's version,
# and runs python/tests with pytest there, as a user would; then runs
# python/tests/test_workspaces.py again with four xdist workers against
# one running fake-attio (FAKE_ATTIO_URL), each test in its own workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

MATURIN_VERSION=1.16.0
tools=target/wheel-tools
if [ ! -x "$tools/bin/maturin" ]; then
    python3 -m venv "$tools"
    "$tools/bin/pip" install --quiet "maturin==$MATURIN_VERSION"
fi
# shellcheck source=scripts/static-env.sh
. scripts/static-env.sh
rm -f target/wheels/fake_attio-*.whl
(cd python && "../$tools/bin/maturin" build --release --locked --target "$STATIC_TARGET" --out ../target/wheels)
wheel="$(ls target/wheels/fake_attio-*.whl)"
printf '%-60s %8d bytes\n' "$wheel" "$(stat -c %s "$wheel")"

if [ "${1:-}" = "--test" ]; then
    venv="$(mktemp -d)/venv"
    python3 -m venv "$venv"
    # pytest and pytest-xdist pinned with hashes, as compose-e2e.py installs them.
    "$venv/bin/pip" install --quiet --require-hashes -r .ci/pytest-requirements.txt
    "$venv/bin/pip" install --quiet --no-deps "$wheel"
    # The command on PATH prints the wheel's version (its file name's second field).
    version="$(basename "$wheel" | cut -d- -f2)"
    printed="$("$venv/bin/fake-attio" --version)"
    echo "$printed"
    case "$printed" in
    "fake-attio $version "*) ;;
    *)
        echo "build-wheel: the wheel's fake-attio does not print version $version" >&2
        exit 1
        ;;
    esac
    (cd python/tests && "$venv/bin/python" -m pytest -q -p no:cacheprovider .)
    # One server for four workers: the plugin attaches to it, and each
    # test takes (and deletes) a workspace of its own.
    control="control-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
    url_file="$(dirname "$venv")/url"
    FAKE_ATTIO_CONTROL_TOKEN="$control" "$venv/bin/fake-attio" --allow-http-targets >"$url_file" &
    fake_pid=$!
    # shellcheck disable=SC2064 # the pid is known now
    trap "kill $fake_pid 2>/dev/null || true" EXIT
    for _ in $(seq 100); do [ -s "$url_file" ] && break; sleep 0.1; done
    url="$(head -n1 "$url_file")"
    (cd python/tests && FAKE_ATTIO_URL="$url" FAKE_ATTIO_CONTROL_TOKEN="$control" \
        "$venv/bin/python" -m pytest -q -p no:cacheprovider -n 4 test_workspaces.py)
    kill -TERM "$fake_pid"
    wait "$fake_pid"
    trap - EXIT
    rm -rf "$(dirname "$venv")"
fi
