#!/usr/bin/env bash
# Builds the static release binaries and the container images, from the
# repository root, with no arguments:
#
#   target/static/fake-attio        the fake Attio (x86_64 Linux, glibc linked in)
#   target/static/attio-webhooks    the CLI (listen, manage, plan/apply)
#   fake-attio:local                image FROM scratch with the fake
#   attio-webhooks:local            image FROM scratch with the CLI
#
# The binaries need nothing from the machine they run on (no libc, no
# certificates: the CLI carries Mozilla's roots). `--version` names the
# commit (`-dirty` when the work tree had changes). Cargo builds them in its
# target dir (CARGO_TARGET_DIR is honoured); they are copied to target/static
# in the repository whatever the target dir: the images, compose-e2e.py and
# .ci/wasm-check take them from there. Without a docker daemon it builds the
# binaries, says so in one line, and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/static-env.sh
. scripts/static-env.sh
cargo build --release --locked --target "$STATIC_TARGET" \
    -p attio-webhooks-testkit --no-default-features --features server --bin fake-attio
cargo build --release --locked --target "$STATIC_TARGET" -p attio-webhooks-cli --bin attio-webhooks

out=target/static
mkdir -p "$out"
for bin in fake-attio attio-webhooks; do
    cp "$STATIC_BUILT/$bin" "$out/$bin"
    if ldd "$out/$bin" >/dev/null 2>&1 && ! ldd "$out/$bin" 2>&1 | grep -q "statically linked"; then
        echo "build-image: $out/$bin is dynamically linked:" >&2
        ldd "$out/$bin" >&2
        exit 1
    fi
    printf '%-28s %8d bytes  %s\n' "$out/$bin" "$(stat -c %s "$out/$bin")" "$("$out/$bin" --version)"
done

if ! docker info >/dev/null 2>&1; then
    echo "build-image: no docker daemon answers; built the static binaries only"
    exit 0
fi
docker build --quiet -f docker/fake-attio.Dockerfile -t fake-attio:local "$out" >/dev/null
docker build --quiet -f docker/attio-webhooks.Dockerfile -t attio-webhooks:local "$out" >/dev/null
for image in fake-attio:local attio-webhooks:local; do
    printf '%-28s %8d bytes\n' "$image" "$(docker image inspect --format '{{.Size}}' "$image")"
done
