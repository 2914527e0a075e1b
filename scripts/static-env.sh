# Sourced by scripts/build-image.sh and scripts/build-wheel.sh: one set of
# settings for the static release binaries, so that both scripts build (and
# reuse) the same artifacts.
#
# STATIC_TARGET       the target triple: this machine's Linux, glibc (x86_64
#                     or aarch64), unless set
# STATIC_BUILT        where cargo puts them: <target dir>/<triple>/release,
#                     the target dir as cargo resolves it (CARGO_TARGET_DIR,
#                     build.target-dir, else target/)
# ATTIO_WEBHOOKS_COMMIT  the commit `--version` names (`-dirty` with changes)
# RUSTFLAGS           crt-static links glibc into the binary; with --target,
#                     build scripts and proc-macros stay dynamic, as they must
# shellcheck shell=bash
STATIC_TARGET="${STATIC_TARGET:-$(uname -m)-unknown-linux-gnu}"
commit="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
if [ "$commit" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    commit="$commit-dirty"
fi
static_target_dir="$(cargo metadata --format-version 1 --no-deps \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
STATIC_BUILT="$static_target_dir/$STATIC_TARGET/release"
export STATIC_TARGET STATIC_BUILT
export ATTIO_WEBHOOKS_COMMIT="$commit"
export RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static"
export CARGO_PROFILE_RELEASE_STRIP=symbols
