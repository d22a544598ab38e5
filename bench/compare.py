"""Side by side over HTTP: ours, stock simplejwt, and the framework's floor, interleaved.

    .venv/bin/python bench/compare.py            # 3 rounds x 12 s per run, ~10 minutes
    .venv/bin/python bench/compare.py --quick    # 2 rounds x 5 s per run, ~3 minutes
    .venv/bin/python bench/compare.py --smoke    # 1 round x 3 s, `me` only: does it work?
    .venv/bin/python bench/compare.py --scenarios me,refresh --rounds 2

A benchmark, not a test: it prints numbers and judges nothing (targets are printed next to the
ratios, as information). The targets (2 workers each, of gunicorn.conf.py's class; PostgreSQL + a private Redis):

  ours   config.settings.base with production settings (bench.harness.ours_env), throttling off
  stock  bench/stock: Django + DRF + simplejwt (TokenObtainPairView, TokenRefreshView with
         ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION, PBKDF2, JWTAuthentication `me`)
  floor  bench/floor: one Django view returning constant JSON; no auth, no database
  ours_eddsa  ours signing access tokens with EdDSA (only for the me_eddsa scenario)

SCENARIOS below is the list of what runs; RATIOS the list of what is compared. Each round runs
every scenario, its targets back to back in rotating order; medians over rounds, ratios taken
within a round. How a run is measured: bench/harness.py. Results: printed, and written to
bench/results/compare-<time>.json and .md (git-ignored).
"""
from __future__ import annotations

if __name__ == "__main__" and not __package__:  # run as a path: bench/compare.py
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import json
import os
import statistics
import subprocess
import time

from bench.harness import (
    LOGIN_BODY,
    LOGIN_PATH,
    PASSWORD,
    PYTHON,
    ROOT,
    Scenario,
    add_common_args,
    eddsa_env,
    finish_args,
    fmt,
    lab,
    meta,
    now_stamp,
    write_results,
)

REFRESH_PATH = {"ours": "/api/auth/refresh/", "stock": "/api/token/refresh/"}
SCENARIOS = [  # in the order of each round; targets in the order of round 0 (rotated each round)
    Scenario("health", ("ours", "floor"), path={"*": "/health"}),
    Scenario("me", ("ours", "stock"), path={"*": "/api/auth/me/"}, auth=True),
    Scenario("refresh", ("ours", "stock"), "POST", REFRESH_PATH, chain="refresh"),
    Scenario("refresh_redis_down", ("ours",), "POST", REFRESH_PATH, chain="refresh", redis_down=True),
    Scenario("refresh_cookie", ("ours",), "POST", REFRESH_PATH, chain="cookie"),
    # A PBKDF2 login (stock) queued behind 3 others on a busy 2-core box can take > 5 s.
    Scenario("login", ("ours", "stock"), "POST", LOGIN_PATH, LOGIN_BODY, timeout=30),
    # Not in the default list: what an asymmetric access-token algorithm costs `me` (was signing_keys.py).
    Scenario("me_eddsa", ("ours_eddsa", "ours"), path={"*": "/api/auth/me/"}, auth=True),
]
DEFAULT = ["health", "me", "refresh", "refresh_redis_down", "refresh_cookie", "login"]
TARGETS = {"ours": ("ours", {}), "stock": ("stock", {}), "floor": ("floor", {}), "ours_eddsa": ("ours", None)}
RATIOS = [  # name, (scenario, target) over (scenario, target) in req/s, target to print
    ("health_vs_floor", ("health", "ours"), ("health", "floor"), 0.7),
    ("me_vs_stock", ("me", "ours"), ("me", "stock"), 1.3),
    ("refresh_vs_stock", ("refresh", "ours"), ("refresh", "stock"), 2.5),
    ("login_vs_stock", ("login", "ours"), ("login", "stock"), None),
    ("refresh_redis_down_vs_up", ("refresh_redis_down", "ours"), ("refresh", "ours"), 0.7),
    ("cookie_refresh_vs_bearer", ("refresh_cookie", "ours"), ("refresh", "ours"), None),
    ("me_eddsa_vs_hs256", ("me_eddsa", "ours_eddsa"), ("me_eddsa", "ours"), None),
]
CPU_RATIOS = [  # app + DB CPU per request of the second over the first's, per round (steadier than req/s)
    ("health: floor CPU / ours", ("health", "ours"), ("health", "floor")),
    ("me: stock CPU / ours", ("me", "ours"), ("me", "stock")),
    ("refresh: stock CPU / ours", ("refresh", "ours"), ("refresh", "stock")),
    ("login: stock CPU / ours", ("login", "ours"), ("login", "stock")),
    ("me: HS256 CPU / EdDSA", ("me_eddsa", "ours_eddsa"), ("me_eddsa", "ours")),
]


def med(values: list[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# --- the hash-bound limit of login --------------------------------------------------------------
def hash_limit(env: dict[str, str], workers: int, count: int) -> dict:
    """CPU seconds of one Argon2id check at our parameters, `workers` processes hashing at
    once; the limit is workers / that (each worker spending all its CPU on the hash)."""
    code = (
        "import time,json;import django;django.setup();"
        "from django.contrib.auth.hashers import make_password,check_password;"
        f"h=make_password('{PASSWORD}');check_password('{PASSWORD}',h);"
        f"t=time.process_time();w=time.perf_counter();[check_password('{PASSWORD}',h) for _ in range({count})];"
        f"print(json.dumps({{'cpu':(time.process_time()-t)/{count},'wall':(time.perf_counter()-w)/{count}}}))"
    )
    procs = [subprocess.Popen([PYTHON, "-c", code], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(workers)]
    results = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in procs]
    cpu = statistics.median(r["cpu"] for r in results)
    return {"check_cpu_ms": cpu * 1000, "check_wall_ms": statistics.median(r["wall"] for r in results) * 1000,
            "processes": workers, "limit_rps": workers / cpu}


# --- report ----------------------------------------------------------------------------------
def per_round(table: dict, a: tuple[str, str], b: tuple[str, str], value) -> dict | None:
    """value(row_a, row_b) for every round both ran in; median, min, max."""
    values = [value(ra, rb) for ra in table.get(a, []) for rb in table.get(b, []) if ra["round"] == rb["round"]]
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "rounds": values}


def cost(row: dict) -> float:
    return row["app_cpu_ms"] + (row["db_cpu_ms"] or 0)


def summarize(runs: list[dict], limit: dict, per_round_limits: dict[int, dict] | None = None) -> dict:
    table: dict[tuple[str, str], list[dict]] = {}
    for row in runs:
        table.setdefault((row["scenario"], row["target"]), []).append(row)
    medians = {}
    for (scenario, target), rows in table.items():
        medians[f"{scenario}/{target}"] = {
            **{k: med([r[k] for r in rows]) for k in ("rps", "p50_ms", "p99_ms", "app_cpu_ms", "db_cpu_ms")},
            "errors": sum(r["errors"] for r in rows), "requests": sum(r["requests"] for r in rows),
            "rounds": len(rows), "max_worker_rss_mib": max(r["max_worker_rss_mib"] for r in rows),
            "p99_over_p50": med([r["p99_ms"] / r["p50_ms"] for r in rows if r["p50_ms"]]),
            "rps_min_max": [min(r["rps"] for r in rows), max(r["rps"] for r in rows)],
        }
    out = {"medians": medians, "ratios": {}, "cpu_ratios": {}, "hash_limit": limit}
    for name, a, b, target in RATIOS:
        value = per_round(table, a, b, lambda ra, rb: ra["rps"] / rb["rps"] if rb["rps"] else None)
        if value is not None:
            out["ratios"][name] = {**value, "target": target}
    for name, a, b in CPU_RATIOS:
        value = per_round(table, a, b, lambda ra, rb: cost(rb) / cost(ra) if cost(ra) else None)
        if value is not None:
            out["cpu_ratios"][name] = value
    logins = table.get(("login", "ours"), [])
    if logins and limit:
        # The CPU of the hash over all the CPU a login costs (app + DB), per round with the
        # hash measured in that round (both move with the machine's load); req/s over the
        # limit also depends on what else the machine runs (wrk, PostgreSQL).
        limits = [(per_round_limits or {}).get(row["round"], limit) for row in logins]
        shares = [lim["check_cpu_ms"] / cost(row) for row, lim in zip(logins, limits, strict=True)]
        rps = [row["rps"] / lim["limit_rps"] for row, lim in zip(logins, limits, strict=True)]
        out["ratios"]["login_hash_share_of_cpu"] = {
            "median": statistics.median(shares), "min": min(shares), "max": max(shares), "target": 0.9}
        out["ratios"]["login_vs_hash_limit_rps"] = {"median": statistics.median(rps), "target": None}
        out["hash_limit_per_round"] = per_round_limits or {}
    return out


def markdown(summary: dict, meta: dict) -> str:
    lines = [
        f"# bench/compare.py, {meta['started']} ({meta['git']})",
        "",
        f"{meta['machine']}; load average at start {meta['loadavg_start']}, at end {meta['loadavg_end']}; "
        f"{meta['rounds']} rounds x {meta['seconds']} s per run; wrk -t{meta['threads']} -c{meta['connections']}; "
        f"gunicorn {meta['workers']} workers per target (gunicorn.conf.py's class). Medians over rounds.",
        "",
        "| scenario | target | req/s (min-max) | p50 ms | p99 ms | p99/p50 | errors/requests | app CPU ms/req | DB CPU ms/req | max worker RSS MiB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, m in summary["medians"].items():
        scenario, target = key.split("/")
        lo, hi = m["rps_min_max"]
        lines.append(
            f"| {scenario} | {target} | {m['rps']:.0f} ({lo:.0f}-{hi:.0f}) | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | "
            f"{fmt(m['p99_over_p50'])} | {m['errors']}/{m['requests']} | {fmt(m['app_cpu_ms'])} | {fmt(m['db_cpu_ms'])} | "
            f"{m['max_worker_rss_mib']} |"
        )
    lines += ["", "| ratio (req/s, within a round) | median | min-max | target | met |", "|---|---|---|---|---|"]
    for name, r in summary["ratios"].items():
        target = r.get("target")
        spread = f"{r['min']:.2f}-{r['max']:.2f}" if "min" in r else "-"
        met = "-" if target is None else ("yes" if r["median"] >= target else f"**no** ({r['median'] / target:.0%} of it)")
        lines.append(f"| {name} | {r['median']:.2f}x | {spread} | {fmt(target)} | {met} |")
    if summary.get("cpu_ratios"):
        lines += ["", "| app + DB CPU per request, within a round (> 1: ours costs less) | median | min-max |", "|---|---|---|"]
        for name, r in summary["cpu_ratios"].items():
            lines.append(f"| {name} | {r['median']:.2f}x | {r['min']:.2f}-{r['max']:.2f} |")
    limit = summary.get("hash_limit")
    if limit:
        lines += ["", f"Login hash-bound limit: one Argon2id check (OWASP m=19 MiB, t=2, p=1) = {limit['check_cpu_ms']:.1f} ms CPU "
                      f"({limit['check_wall_ms']:.1f} ms wall) with {limit['processes']} processes hashing at once, so "
                      f"{limit['processes']} workers / {limit['check_cpu_ms']:.1f} ms = {limit['limit_rps']:.1f} logins/s."]
    bad = [k for k, m in summary["medians"].items() if m["p99_over_p50"] and m["p99_over_p50"] > 3]
    lines += ["", "p99 <= 3x p50: " + ("every scenario" if not bad else "missed by " + ", ".join(bad))]
    return "\n".join(lines) + "\n"


def cookie_transport_available() -> bool:
    return (ROOT / "apps" / "accounts" / "transport.py").exists()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(parser, seconds=12.0, quick_seconds=5.0)
    parser.add_argument("--smoke", action="store_true", help="1 round x 3 s of `me` only: does it work end to end?")
    parser.add_argument("--scenarios", default=",".join(DEFAULT),
                        help="comma-separated subset of: " + ", ".join(s.name for s in SCENARIOS))
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.seconds, args.scenarios = args.rounds or 1, args.seconds or 3.0, "me"
    finish_args(args)
    wanted = args.scenarios.split(",")
    scenarios = [s for s in SCENARIOS if s.name in wanted]
    if "refresh_cookie" in wanted and not cookie_transport_available():
        print("(refresh_cookie skipped: apps/accounts/transport.py is not there yet)")
        scenarios = [s for s in scenarios if s.name != "refresh_cookie"]
    names = {t for s in scenarios for t in s.targets}
    targets = {n: (kind, eddsa_env() if extra is None else extra) for n, (kind, extra) in TARGETS.items() if n in names}
    # Refresh tokens per target: a pool per wrk thread for each chained run, the warm-up included.
    per_run = args.pool * args.threads
    tokens = {n: per_run * (args.rounds + 1) * sum(1 for s in scenarios if s.chain and n in s.targets) for n in names}

    started, load_start, t0 = now_stamp(), os.getloadavg(), time.monotonic()
    per_round_limits: dict[int, dict] = {}
    limit: dict = {}
    with lab(args, targets, tokens=tokens) as bench:
        ours_env = bench.targets["ours"].env
        if any(s.name == "login" for s in scenarios):
            print("Measuring the hash-bound login limit...", flush=True)
            limit = hash_limit(ours_env, args.workers, 20 if args.quick else 40)
        print(f"Warm-up ({len(scenarios)} scenarios, 2 s per target)...", flush=True)
        for scenario in scenarios:
            for name in scenario.targets if not scenario.redis_down else ():
                bench.run(scenario, name, rnd=-1, seconds=2, record=False)
        for rnd in range(args.rounds):
            print(f"Round {rnd + 1}/{args.rounds}", flush=True)
            for scenario in scenarios:
                if scenario.name == "login":  # the hash's cost now, next to the logins it is compared with
                    per_round_limits[rnd] = hash_limit(ours_env, args.workers, 20)
                order = scenario.targets[rnd % len(scenario.targets):] + scenario.targets[:rnd % len(scenario.targets)]
                for name in order:
                    bench.run(scenario, name, rnd=rnd, seconds=args.seconds)
        runs = bench.runs
    summary = summarize(runs, limit, per_round_limits)
    info = meta(args, started, t0, load_start)
    write_results(args.out, "compare", started, {"meta": info, "summary": summary, "runs": runs}, markdown(summary, info))


if __name__ == "__main__":
    main()
