#!/usr/bin/env python3
"""Runs the criterion benchmarks several times and reports every pair.

Each run is a full `cargo bench --bench <name>`; after it, the median of
each side of each pair is read from criterion's
`target/criterion/<group>/<bench>/new/estimates.json`. Over all runs the
script prints, for every row of BENCHMARKS.md, the minimum, median and
maximum of each side and of the ratio, and says "met" only when the worst
run meets the target.

    python3 benches/ratios.py                  # 5 runs of every bench
    python3 benches/ratios.py --runs 7 --bench client --bench signature
    python3 benches/ratios.py --runs 1 -- --warm-up-time 0.2 --measurement-time 0.5

Rows marked `paired` (benches timed with `interleave::paired_async`) take
their ratio from the pairs the bench appends to `target/bench-pairs.jsonl`:
both sides' times from the same windows, summed over the run, so a drift
between two bench functions' windows does not count against one side.

Arguments after `--` go to criterion. Needs only Python 3 and cargo.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where cargo puts criterion's output: `target/`, or `$CARGO_TARGET_DIR`.
CRITERION = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "criterion")


def per_second(count):
    """Turns nanoseconds per iteration into `count` items per second."""
    return lambda ns: count * 1e9 / ns


def per_iteration_us(ns):
    return ns / 1e3


# Each row: what it measures, its bench, the criterion ids of our side and of
# the baseline, how a time (ns per iteration) is shown, how the ratio is
# formed from the two times, and the target with the direction it must hold.
ROWS = [
    {
        "row": "1",
        "what": "GET one webhook over loopback: client vs hand-written hyper-util, both decoding the typed Webhook",
        "bench": "client",
        "ours": "get_over_loopback/client_typed",
        "base": "get_over_loopback/raw_hyper_typed",
        "unit": ("us", per_iteration_us),
        "ratio": ("time ours / base", lambda ours, base: ours / base),
        "target": ("<=", 1.05),
    },
    {
        "row": "2",
        "what": "decode a list page of 100 webhooks: typed vs serde_json::Value",
        "bench": "client",
        "ours": "decode_list_page_100/typed",
        "base": "decode_list_page_100/serde_json_value",
        "unit": ("us", per_iteration_us),
        "ratio": ("speed-up base / ours", lambda ours, base: base / ours),
        "target": (">=", 1.0),
    },
    {
        "row": "3",
        "what": "encode CreateWebhook with 10 subscriptions: typed vs to_vec of the same json! value",
        "bench": "client",
        "ours": "encode_create_10_subscriptions/typed",
        "base": "encode_create_10_subscriptions/json_value",
        "unit": ("us", per_iteration_us),
        "ratio": ("speed-up base / ours", lambda ours, base: base / ours),
        "target": None,
    },
    {
        "row": "4",
        "what": "create/get/update/delete through the client, in-process fake (raw requests into the same transport as baseline)",
        "bench": "client",
        "ours": "in_process_cycle/client/create_get_update_delete",
        "base": "in_process_cycle/raw_transport/create_get_update_delete",
        "unit": ("ops/s", per_second(4)),
        "ratio": ("throughput ours / base", lambda ours, base: base / ours),
        "target": ("ops>=", 200_000),
    },
]
for connections in (64, 8, 1):
    ROWS.append(
        {
            "row": "5",
            "what": f"GET and list over loopback, {connections} connection(s): the fake vs wiremock with the same bytes",
            "bench": "fake_server",
            "ours": f"server_get_and_list/fake_attio/{connections}",
            "base": f"server_get_and_list/wiremock/{connections}",
            "unit": ("req/s", per_second(256)),
            "ratio": ("throughput ours / base", lambda ours, base: base / ours),
            "target": (">=", 2.0) if connections == 64 else None,
        }
    )
for door in ("loopback", "in_process"):
    ROWS.append(
        {
            "row": "7",
            "what": f"one test: start, one list, drop; the fake {door.replace('_', '-')} vs wiremock (pooled server, one mock, shared transport)",
            "bench": "per_test",
            "ours": f"per_test_{door}/fake_attio",
            "base": f"per_test_{door}/wiremock",
            "unit": ("us", per_iteration_us),
            "ratio": ("time ours / base", lambda ours, base: ours / base),
            "target": ("<=", 1.0),
        }
    )
ROWS.append(
    {
        "row": "7",
        "what": "one test on the shared server: a workspace, one list, drop; the fake vs wiremock (pooled server, one mock, shared transport)",
        "bench": "per_test",
        "ours": "per_test_shared/fake_attio",
        "base": "per_test_shared/wiremock",
        "unit": ("us", per_iteration_us),
        "ratio": ("time ours / base", lambda ours, base: ours / base),
        "target": ("<=", 0.5),
    }
)
for size, label in ((1024, "1 KiB"), (65536, "64 KiB")):
    ROWS.append(
        {
            "row": "6",
            "what": f"verify a signature, {label} body: signature::verify vs raw hmac + sha2",
            "bench": "signature",
            "ours": f"verify_signature/attio_webhooks/{size}",
            "base": f"verify_signature/raw_hmac_sha2/{size}",
            "unit": ("MiB/s", lambda ns, size=size: size / ns * 1e9 / 2**20),
            "ratio": ("throughput ours / base", lambda ours, base: base / ours),
            "target": (">=", 0.9),
        }
    )
ROWS.append(
    {
        "row": "receiving",
        "what": "a signed delivery of 10 events: verified, typed, deduplicated vs raw hmac + sha2 and serde_json::Value",
        "bench": "receiving",
        "ours": "receive_10_events/verified_parsed_deduped",
        "base": "receive_10_events/value_no_dedupe",
        "unit": ("us", per_iteration_us),
        "ratio": ("time ours / base", lambda ours, base: ours / base),
        "target": None,
    }
)

# The stores' benches live in their own packages (they need real servers:
# `scripts/test-servers.sh start`).
PACKAGES = {
    "redis_claim": ("attio-webhooks-redis", "claim"),
    "postgres_claim": ("attio-webhooks-postgres", "claim"),
    "postgres_inbox": ("attio-webhooks-postgres", "inbox"),
    "deliveries": ("attio-webhooks-replicas", "deliveries"),
}
for store, name, ours, base, what, target in (
    ("redis", "Redis", "store", "raw", "the same scripts raw on a connection manager", (">=", 0.9)),
    ("postgres", "PostgreSQL", "store", "raw_pooled", "the same statements raw, a pooled connection each", (">=", 0.9)),
    ("postgres", "PostgreSQL", "store_vs_connection", "raw_connection", "the same statements raw on one held connection (what the pool costs)", None),
):
    ROWS.append(
        {
            "row": "store",
            "what": f"claim + complete on {name}: the store vs {what}",
            "bench": f"{store}_claim",
            "ours": f"{store}_seen_keys/{ours}",
            "base": f"{store}_seen_keys/{base}",
            "unit": ("ops/s", per_second(1)),
            "ratio": ("throughput ours / base", lambda ours, base: base / ours),
            "target": target,
            "paired": True,
        }
    )
for store, name in (("redis", "Redis"), ("postgres", "PostgreSQL")):
    ROWS.append(
        {
            "row": "e2e",
            "what": f"verified + deduplicated deliveries through an axum replica, Once on {name} vs on MemorySeenKeys",
            "bench": "deliveries",
            "ours": f"deliveries_{store}/{store}",
            "base": f"deliveries_{store}/memory",
            "unit": ("deliveries/s", per_second(1)),
            "ratio": ("throughput ours / base", lambda ours, base: base / ours),
            "target": None,
        }
    )

for group, ours, base, what, unit, target in (
    ("postgres_inbox_accept", "inbox", "raw_pooled", "inbox store of a 3-event delivery vs the same INSERT raw, pooled", ("deliveries/s", per_second(1)), (">=", 0.9)),
    ("postgres_inbox_work", "inbox", "raw_skip_locked", "one worker's events: drain of 32 (done + next claim in one statement) vs 32 turns of a raw SKIP LOCKED claim + done loop", ("events/s", per_second(32)), (">=", 0.9)),
    ("postgres_inbox_work_one", "inbox", "raw_skip_locked", "one event at a time: work_once vs one turn of the raw loop", ("events/s", per_second(1)), None),
    ("answer_time", "inbox_accept", "once_50ms_handler", "the answer to Attio, handler of 50 ms: inbox accept vs Once on PostgreSQL", ("us", per_iteration_us), None),
):
    ROWS.append(
        {
            "row": "inbox",
            "what": what,
            "bench": "postgres_inbox",
            "ours": f"{group}/{ours}",
            "base": f"{group}/{base}",
            "unit": unit,
            "ratio": ("throughput ours / base", lambda ours, base: base / ours)
            if target
            else ("time ours / base", lambda ours, base: ours / base),
            "target": target,
            # Both sides timed in each window (interleave::paired_async).
            "paired": group != "answer_time",
        }
    )


def cargo_bench(bench):
    package, name = PACKAGES.get(bench, (None, bench))
    return ["cargo", "bench"] + (["-p", package] if package else []) + ["--bench", name]


def median_ns(bench_id):
    path = os.path.join(CRITERION, *bench_id.split("/"), "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"]


def paired_ns(pairs, row):
    """The row's two sides' total times over every window in which both
    ran: in our function's windows ours is `mine`, in the baseline's it is
    `other`."""
    ours = base = 0
    for p in pairs:
        if p["id"] == row["ours"]:
            ours, base = ours + p["mine_ns"], base + p["other_ns"]
        elif p["id"] == row["base"]:
            ours, base = ours + p["other_ns"], base + p["mine_ns"]
    if not ours:
        sys.exit(f"no timed pairs for {row['ours']}: is ATTIO_BENCH_PAIRS passed on?")
    return ours, base


def spread(values, fmt):
    return "{} / {} / {}".format(
        fmt(min(values)), fmt(statistics.median(values)), fmt(max(values))
    )


def number(x):
    if x >= 10_000:
        return f"{x / 1000:.1f} k"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}"


def verdict(target, ratios, ours_values):
    if target is None:
        return ""
    kind, bound = target
    if kind == "<=":
        worst = max(ratios)
        return "met" if worst <= bound else f"NOT met (worst {worst:.3f})"
    if kind == ">=":
        worst = min(ratios)
        return "met" if worst >= bound else f"NOT met (worst {worst:.3f})"
    worst = min(ours_values)
    return "met" if worst >= bound else f"NOT met (worst {number(worst)})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bench", action="append", help="client, fake_server, signature, per_test, receiving, redis_claim, postgres_claim, postgres_inbox or deliveries")
    parser.add_argument("criterion", nargs="*", help="arguments for criterion (after --)")
    args = parser.parse_args()
    benches = args.bench or ["client", "fake_server", "signature"]
    rows = [r for r in ROWS if r["bench"] in benches]
    times = {r["ours"]: [] for r in rows} | {r["base"]: [] for r in rows}
    paired = {r["ours"]: [] for r in rows if r.get("paired")}
    pairs_file = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "bench-pairs.jsonl")

    started = time.time()
    for run in range(1, args.runs + 1):
        for bench in benches:
            command = [*cargo_bench(bench), "--", "--noplot", *args.criterion]
            print(f"run {run}/{args.runs}: {' '.join(command)}", file=sys.stderr, flush=True)
            if os.path.exists(pairs_file):
                os.remove(pairs_file)
            env = os.environ | {"ATTIO_BENCH_PAIRS": pairs_file}
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-4000:]}")
            pairs = []
            if os.path.exists(pairs_file):
                with open(pairs_file) as f:
                    pairs = [json.loads(line) for line in f]
            for r in rows:
                if r["bench"] == bench:
                    times[r["ours"]].append(median_ns(r["ours"]))
                    times[r["base"]].append(median_ns(r["base"]))
                    if r.get("paired"):
                        paired[r["ours"]].append(paired_ns(pairs, r))
    elapsed = time.time() - started

    print(f"{args.runs} runs, {elapsed:.0f} s; each cell is min / median / max over the runs\n")
    print("| # | what | ours | baseline | ratio | target | |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        unit, show = r["unit"]
        ours = [show(ns) for ns in times[r["ours"]]]
        base = [show(ns) for ns in times[r["base"]]]
        name, form = r["ratio"]
        if r.get("paired"):
            ratios = [form(o, b) for o, b in paired[r["ours"]]]
            name += ", paired"
        else:
            ratios = [form(o, b) for o, b in zip(times[r["ours"]], times[r["base"]])]
        target = ""
        if r["target"]:
            kind, bound = r["target"]
            target = f"{kind.replace('ops', '')} {number(bound)}" + (" ops/s" if kind == "ops>=" else "")
        print(
            "| {} | {} | {} {} | {} {} | {} ({}) | {} | {} |".format(
                r["row"],
                r["what"],
                spread(ours, number),
                unit,
                spread(base, number),
                unit,
                spread(ratios, lambda x: f"{x:.3f}"),
                name,
                target,
                verdict(r["target"], ratios, ours),
            )
        )


if __name__ == "__main__":
    main()
