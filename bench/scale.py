"""Do `me` and refresh cost the same with 1,000 and with 100,000 live sessions (and users)?

    .venv/bin/python -m bench.scale             # ~5 minutes (seeding ~1-2 min)
    .venv/bin/python -m bench.scale --quick     # 2 rounds x 4 s

Two scratch PostgreSQL databases, seeded with bulk_create (one precomputed password hash):
"small" with 1,000 users and 1,000 live sessions, "large" with 100,000 of each. Ours (the
production settings of bench/harness.py) serves each from its own gunicorn (2 workers);
wrk drives `me` and chained refresh on both, interleaved in rounds. Printed: req/s, p50/p99,
app and database CPU per request, the large/small ratios; then the table sizes and an
`EXPLAIN (ANALYZE, BUFFERS)` of every SQL statement of one `me` and one refresh on the large
database. Results also in bench/results/scale-<time>.json and .md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from bench.harness import (
    Scenario,
    add_common_args,
    finish_args,
    fmt,
    lab,
    meta,
    now_stamp,
    run_worker,
    write_results,
)

SIZES = {"small": 1_000, "large": 100_000}
SCENARIOS = [
    Scenario("me", ("small", "large"), path={"*": "/api/auth/me/"}, auth=True),
    Scenario("refresh", ("small", "large"), "POST", {"*": "/api/auth/refresh/"}, chain="refresh"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser, seconds=8.0, quick_seconds=4.0)
    parser.add_argument("--large", type=int, default=SIZES["large"], help="users and sessions in the large database")
    args = parser.parse_args()
    finish_args(args)
    sizes = {"small": SIZES["small"], "large": args.large}
    started_at, load_start, t0 = now_stamp(), os.getloadavg(), time.monotonic()
    seeded: dict = {}

    def seed(name: str, env: dict[str, str]) -> None:
        print(f"Seeding {name}: {sizes[name]:,} users and {sizes[name]:,} live sessions...", flush=True)
        seeded[name] = run_worker(env, "scale", "--users", str(sizes[name]), "--sessions", str(sizes[name]),
                                  timeout=900)
        print(f"  {seeded[name]}", flush=True)

    count = args.pool * args.threads * (args.rounds + 1) + 1
    with lab(args, {name: ("ours", {}) for name in sizes}, tokens=dict.fromkeys(sizes, count), seed=seed) as bench:
        explain_token = bench.targets["large"].tokens.pop()
        print("Warm-up...", flush=True)
        for scenario in SCENARIOS:
            for name in sizes:
                bench.run(scenario, name, rnd=-1, seconds=2, record=False)
        for rnd in range(args.rounds):
            print(f"Round {rnd + 1}/{args.rounds}", flush=True)
            for scenario in SCENARIOS:
                for name in list(sizes) if rnd % 2 == 0 else list(sizes)[::-1]:
                    bench.run(scenario, name, rnd=rnd, seconds=args.seconds)
        explain = run_worker(bench.targets["large"].env, "explain", "--token", explain_token)
        runs = bench.runs

    medians: dict = {}
    for scenario in ("me", "refresh"):
        for name in sizes:
            rows = [r for r in runs if r["scenario"] == scenario and r["target"] == name]
            medians[f"{scenario}/{name}"] = {
                k: statistics.median([r[k] for r in rows if r[k] is not None] or [0])
                for k in ("rps", "p50_ms", "p99_ms", "app_cpu_ms", "db_cpu_ms")
            } | {"errors": sum(r["errors"] for r in rows), "requests": sum(r["requests"] for r in rows)}
    lines = [
        f"# bench/scale.py, {started_at}",
        "",
        f"Load average at start {' '.join(f'{x:.2f}' for x in load_start)}, at end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {args.rounds} rounds x {args.seconds} s; medians.",
        "",
        "| path | database | users | live sessions | req/s | p50 ms | p99 ms | app CPU ms/req | DB CPU ms/req | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, m in medians.items():
        scenario, name = key.split("/")
        lines.append(f"| {scenario} | {name} | {seeded[name]['users']:,} | {seeded[name]['sessions']:,} | {m['rps']:.0f} | "
                     f"{m['p50_ms']:.2f} | {m['p99_ms']:.2f} | {fmt(m['app_cpu_ms'])} | {fmt(m['db_cpu_ms'])} | "
                     f"{m['errors']}/{m['requests']} |")
    lines += ["", "| path | large / small: req/s | app CPU/req | DB CPU/req | app+DB CPU/req |", "|---|---|---|---|---|"]
    for scenario in ("me", "refresh"):
        s, big = medians[f"{scenario}/small"], medians[f"{scenario}/large"]
        total = (big["app_cpu_ms"] + (big["db_cpu_ms"] or 0)) / (s["app_cpu_ms"] + (s["db_cpu_ms"] or 0))
        lines.append(f"| {scenario} | {big['rps'] / s['rps']:.2f}x | {big['app_cpu_ms'] / s['app_cpu_ms']:.2f}x | "
                     f"{(big['db_cpu_ms'] or 0) / (s['db_cpu_ms'] or 1):.2f}x | {total:.2f}x |")
    lines += ["", "Tables on the large database: " + ", ".join(
        f"`{t}` {v['rows']:,} rows, {v['size']}" for t, v in explain.get("tables", {}).items())]
    for path, plans in explain.get("paths", {}).items():
        lines += ["", f"## SQL of one `{path}` (large database)", ""]
        for item in plans:
            lines += ["```sql", item["sql"], "```"]
            if item.get("prepared_as"):
                lines += ["prepared as:", "```sql", item["prepared_as"], "```"]
            if item["plan"]:
                lines += ["```", item["plan"], "```"]
    md = "\n".join(lines) + "\n"
    data = {"meta": meta(args, started_at, t0, load_start), "seeded": seeded, "medians": medians, "runs": runs,
            "explain": explain}
    write_results(args.out, "scale", started_at, data, md)


if __name__ == "__main__":
    main()
