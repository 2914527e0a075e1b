#!/usr/bin/env bash
# Builds every release artifact this machine can build (Linux, its own
# architecture) into one folder and checks each, from the repository root:
#
#   scripts/release-dry-run.sh [--tag vX.Y.Z] [--out DIR] [--no-crates]
#
# Into DIR (default target/release-dry-run, emptied first):
#   attio-webhooks-*.crate ...         each publishable crate, packed and
#                                      built from its packed sources
#   fake-attio-<arch>-linux            the static binaries (no libraries
#   attio-webhooks-<arch>-linux        needed, glibc linked in)
#   fake_attio-*.whl                   the fake-attio wheel
#   {fake-attio,attio-webhooks}-image-<arch>.tar.gz
#                                      the images FROM scratch (`docker
#                                      load`), when a docker daemon answers
#   SHA256SUMS                         of all of the above
#
# Checks: every publishable crate has one version, the one the tag names
# (--tag, as the release workflow passes it); the binaries, the images and
# the wheel's `fake-attio` (installed into a fresh venv, python/tests run
# there by scripts/build-wheel.sh --test) print it; `sha256sum -c`
# verifies SHA256SUMS. --no-crates skips the crates (architecture-free:
# the release workflow packs them once). The release workflow
# (.github/workflows/release.yml) runs this on each Linux architecture;
# .ci/run runs it in place of building these one by one.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=""
out=target/release-dry-run
crates=yes
while (($#)); do
    case "$1" in
    --tag) tag="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-crates) crates=no; shift ;;
    *)
        echo "usage: scripts/release-dry-run.sh [--tag vX.Y.Z] [--out DIR] [--no-crates]" >&2
        exit 2
        ;;
    esac
done
started=$SECONDS
phase() { printf -- '-- release dry run: %s (%ds)\n' "$*" "$((SECONDS - started))"; }
fail() {
    echo "release-dry-run: $*" >&2
    exit 1
}

phase "versions"
# Every package that is not `publish = false`, as "name version" lines.
publishable="$(cargo metadata --format-version 1 --no-deps | python3 -c '
import json, sys
for package in json.load(sys.stdin)["packages"]:
    if package["publish"] != []:
        print(package["name"], package["version"])')"
echo "$publishable"
version="$(awk 'NR == 1 { print $2 }' <<<"$publishable")"
if [ "$(awk '{ print $2 }' <<<"$publishable" | sort -u | wc -l)" != 1 ]; then
    fail "the publishable crates do not share one version"
fi
if [ -n "$tag" ] && [ "$tag" != "v$version" ]; then
    fail "the tag $tag does not name the crates' version $version"
fi
# `--version` prints "<name> <version> (commit ...)".
prints_version() {
    local name="$1" printed="$2"
    echo "$printed"
    case "$printed" in
    "$name $version "*) ;;
    *) fail "$name printed '$printed', not version $version" ;;
    esac
}

rm -rf "$out"
mkdir -p "$out"

if [ "$crates" = yes ]; then
    phase "crates: packed, each built from its packed sources"
    # cargo unpacks the packed crates of its temporary local registry under
    # ~/.cargo/registry/src, keyed by that registry's path and the version: a
    # clone in the same folder would build against the sources of an earlier
    # run with the same version. Only crates.io's sources are kept.
    for unpacked in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*; do
        case "$(basename "$unpacked")" in
        index.crates.io-*) ;;
        *) rm -rf "$unpacked" ;;
        esac
    done
    # The testkit is built against the packed core through a temporary
    # local registry, and so on down the order.
    packages=()
    while read -r name _; do
        packages+=(-p "$name")
    done <<<"$publishable"
    cargo package --locked "${packages[@]}"
    target_dir="$(cargo metadata --format-version 1 --no-deps \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
    while read -r name _; do
        cp "$target_dir/package/$name-$version.crate" "$out/"
    done <<<"$publishable"
fi

phase "static binaries and images (scripts/build-image.sh)"
scripts/build-image.sh
arch="$(uname -m)"
for bin in fake-attio attio-webhooks; do
    cp "target/static/$bin" "$out/$bin-$arch-linux"
    prints_version "$bin" "$("$out/$bin-$arch-linux" --version)"
done
if docker info >/dev/null 2>&1; then
    for image in fake-attio attio-webhooks; do
        prints_version "$image" "$(docker run --rm "$image:local" --version)"
        docker save "$image:local" | gzip -9 >"$out/$image-image-$arch.tar.gz"
    done
else
    echo "no docker daemon answers: no images in $out"
fi

phase "the wheel, in a fresh venv (scripts/build-wheel.sh --test)"
scripts/build-wheel.sh --test
cp target/wheels/fake_attio-"$version"-*.whl "$out/"

phase "checksums"
(
    cd "$out"
    mapfile -t files < <(find . -maxdepth 1 -type f ! -name SHA256SUMS -printf '%f\n' | sort)
    sha256sum "${files[@]}" >SHA256SUMS
    sha256sum -c --strict SHA256SUMS
)
ls -l "$out"
phase "done"
