#!/usr/bin/env bash
# Builds the `fake-attio` wheel (the static fake-attio binary and the
# pytest fixture module in python/fake_attio) into target/wheels/, from the
# repository root, with no arguments. maturin comes from PyPI into
# target/wheel-tools. With --test, also installs the wheel into a fresh
# venv, checks that `fake-attio --version` there prints the wheel's version,
# and runs python/tests with pytest there, as a user would.
set -euo pipefail
cd "$(dirname "$0")/.."

MATURIN_VERSION=1.16.0
PYTEST_VERSION=9.2.0
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
    "$venv/bin/pip" install --quiet "$wheel" "pytest==$PYTEST_VERSION"
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
    rm -rf "$(dirname "$venv")"
fi
