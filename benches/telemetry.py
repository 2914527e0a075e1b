#!/usr/bin/env python3
"""What the client's spans and metrics cost a GET (issue 31, item 6).

Builds `benches/telemetry.rs` three ways and runs each mode of it:

- `base`: the code before the spans (commit 1ad6a36), the same bench file
  copied into a scratch worktree of that commit;
- `head`: this tree, default features;
- `head+metrics`: this tree with `--features metrics`.

Then, for each build and mode, instructions per GET on the calling thread
(callgrind, `--separate-threads`, counts at 1000 and 3000 GETs so start-up
cancels) and time per GET over loopback (5 rounds, every build and mode
once per round in a rotated order; min / median / max).

    python3 benches/telemetry.py [--rounds 5] [--gets 5000]

Uses $CARGO_TARGET_DIR (default ./target) for all three builds, so the
dependencies are compiled once. Needs valgrind and git.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

BASE_COMMIT = "1ad6a36"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benches", "telemetry.rs")


def build(tree, features):
    """Builds the telemetry bench in `tree`; answers the executable's path."""
    cmd = ["cargo", "bench", "--bench", "telemetry", "--no-run", "--message-format=json"]
    cmd += features
    env = dict(os.environ)
    env.setdefault("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    out = subprocess.run(cmd, cwd=tree, env=env, check=True, stdout=subprocess.PIPE, text=True)
    for line in out.stdout.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "telemetry":
            if msg.get("executable"):
                return msg["executable"]
    sys.exit("no telemetry executable in cargo's output")


def base_tree(scratch):
    """A worktree of BASE_COMMIT with this bench file and its [[bench]] entry."""
    tree = os.path.join(scratch, "base")
    subprocess.run(["git", "worktree", "add", "-q", "--detach", tree, BASE_COMMIT], cwd=ROOT, check=True)
    shutil.copy(BENCH, os.path.join(tree, "benches", "telemetry.rs"))
    with open(os.path.join(tree, "Cargo.toml"), "a") as f:
        f.write('\n[[bench]]\nname = "telemetry"\nharness = false\n')
    return tree


def instructions(exe, mode, gets):
    """The calling thread's instruction count for `gets` GETs."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "cg")
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--separate-threads=yes",
             f"--callgrind-out-file={out}", exe, mode, str(gets)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out + "-01") as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    sys.exit(f"no count for {exe} {mode}")


def per_get_ns(exe, mode, gets):
    out = subprocess.run([exe, mode, str(gets)], check=True, stdout=subprocess.PIPE, text=True)
    return float(out.stdout.split()[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gets", type=int, default=5000)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="telemetry-bench-")
    try:
        base = base_tree(scratch)
        builds = {
            "base": build(base, []),
            "head": build(ROOT, []),
            "head+metrics": build(ROOT, ["--features", "metrics"]),
        }
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", os.path.join(scratch, "base")],
                       cwd=ROOT, check=False)
        shutil.rmtree(scratch, ignore_errors=True)
    runs = [(b, m) for b in ("base", "head") for m in ("none", "off", "registry")]
    runs += [("head+metrics", "none"), ("head+metrics", "metrics")]

    per_get = {}
    for build_name, mode in runs:
        exe = builds[build_name]
        low, high = instructions(exe, mode, 1000), instructions(exe, mode, 3000)
        per_get[(build_name, mode)] = (high - low) / 2000
    times = {run: [] for run in runs}
    for r in range(args.rounds):
        order = runs[r % len(runs):] + runs[:r % len(runs)]
        for build_name, mode in order:
            times[(build_name, mode)].append(per_get_ns(builds[build_name], mode, args.gets))

    reference = per_get[("base", "none")]
    print("| build | mode | instructions/GET (calling thread) | vs base, none | µs/GET min / median / max |")
    print("|---|---|---|---|---|")
    for run in runs:
        t = sorted(times[run])
        change = (per_get[run] / reference - 1) * 100
        print(f"| {run[0]} | {run[1]} | {per_get[run]:,.0f} | {change:+.2f} % | "
              f"{t[0] / 1000:.1f} / {statistics.median(t) / 1000:.1f} / {t[-1] / 1000:.1f} |")


if __name__ == "__main__":
    main()
