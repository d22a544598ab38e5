"""Do `me` and refresh cost the same with 1,000 and with 100,000 live sessions (and users)?

    .venv/bin/python bench/scale.py             # ~5 minutes (seeding ~1-2 min)
    .venv/bin/python bench/scale.py --quick     # 2 rounds x 4 s

Two scratch PostgreSQL databases, seeded with bulk_create (one precomputed password hash):
"small" with 1,000 users and 1,000 live sessions, "large" with 100,000 of each. Ours (the
production settings of bench/compare.py) serves each from its own gunicorn (2 sync workers);
wrk drives `me` and chained refresh on both, interleaved in rounds. Printed: req/s, p50/p99,
app and database CPU per request, the large/small ratios; then the table sizes and an
`EXPLAIN (ANALYZE, BUFFERS)` of every SQL statement of one `me` and one refresh on the large
database. Results also in bench/results/scale-<time>.json and .md.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.compare import (  # noqa: E402
    DEFAULT_PG,
    EMAIL,
    PASSWORD,
    PROXY_HEADERS,
    RESULTS,
    Bench,
    Target,
    fmt,
    gunicorn,
    ours_env,
    run_worker,
)
from devprocs import RedisProcess, scratch_database_url  # noqa: E402

SIZES = {"small": 1_000, "large": 100_000}


class ScaleBench(Bench):
    """compare.Bench with two targets, both ours: small and large."""

    def spec(self, scenario: str, target: str) -> dict[str, str]:
        if scenario == "me":
            access = self.login_access(target, ours=True)
            return {"BENCH_METHOD": "GET", "BENCH_PATH": "/api/auth/me/",
                    "BENCH_HEADERS": f"{PROXY_HEADERS}\nAuthorization: Bearer {access}"}
        return {"BENCH_METHOD": "POST", "BENCH_PATH": "/api/auth/refresh/", "BENCH_CHAIN": "refresh",
                "BENCH_HEADERS": f"{PROXY_HEADERS}\nContent-Type: application/json",
                "BENCH_TOKENS": self.token_files(target)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pool", type=int, default=8)
    parser.add_argument("--large", type=int, default=SIZES["large"], help="users and sessions in the large database")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.seconds = args.seconds or (4.0 if args.quick else 8.0)
    sizes = {"small": SIZES["small"], "large": args.large}
    import psycopg2

    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    load_start = os.getloadavg()
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="authsvc-scale-")
    admin = psycopg2.connect(args.pg_url, connect_timeout=5)
    admin.autocommit = True
    redis = RedisProcess()
    seeded, explain = {}, {}
    try:
        redis.start()
        with ExitStack() as stack:
            targets, tokens, envs = {}, {}, {}
            per_run = args.pool * args.threads
            for name, size in sizes.items():
                db = stack.enter_context(scratch_database_url(postgres_url=args.pg_url, prefix=f"authsvc_bench_{name}"))
                env = ours_env(db, redis.url, os.path.join(tmp, f"logs-{name}"))
                envs[name] = env
                count = per_run * (args.rounds + 1) + 1
                tokens[name] = run_worker(env, "prepare", "--email", EMAIL, "--password", PASSWORD,
                                          "--tokens", str(count))["tokens"]
                print(f"Seeding {name}: {size:,} users and {size:,} live sessions...", flush=True)
                seeded[name] = run_worker(env, "scale", "--users", str(size), "--sessions", str(size), timeout=900)
                print(f"  {seeded[name]}", flush=True)
                url, pid = stack.enter_context(gunicorn("config.wsgi:application", env, workers=args.workers))
                targets[name] = Target(name, url, pid, urlsplit(db).path.lstrip("/"))
            explain_token = tokens["large"].pop()
            bench = ScaleBench(args, admin, targets, tokens, redis, tmp)
            print("Warm-up...", flush=True)
            for scenario in ("me", "refresh"):
                for name in sizes:
                    bench.run(scenario, name, rnd=-1, seconds=2, record=False)
            for rnd in range(args.rounds):
                print(f"Round {rnd + 1}/{args.rounds}", flush=True)
                for scenario in ("me", "refresh"):
                    order = list(sizes) if rnd % 2 == 0 else list(sizes)[::-1]
                    for name in order:
                        bench.run(scenario, name, rnd=rnd, seconds=args.seconds)
            explain = run_worker(envs["large"], "explain", "--token", explain_token)
            runs = bench.runs
    finally:
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)
        admin.close()
        shutil.rmtree(tmp, ignore_errors=True)

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
    print()
    print(md)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "scale-" + started_at.replace(":", "")
    (out / f"{stem}.json").write_text(json.dumps(
        {"seeded": seeded, "medians": medians, "runs": runs, "explain": explain,
         "total_seconds": round(time.monotonic() - t0, 1)}, indent=2, default=str) + "\n")
    (out / f"{stem}.md").write_text(md)
    print(f"Written: {out / stem}.json and .md ({time.monotonic() - t0:.0f} s in all)")


if __name__ == "__main__":
    main()
