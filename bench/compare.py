"""Side by side over HTTP: ours, stock simplejwt, and the framework's floor, interleaved.

    .venv/bin/python bench/compare.py            # 3 rounds x 12 s per run, ~10 minutes
    .venv/bin/python bench/compare.py --quick    # 2 rounds x 5 s per run, ~3 minutes
    .venv/bin/python bench/compare.py --help

A benchmark, not a test: it prints numbers and judges nothing (the targets of issue 12 are
printed next to the ratios, as information). Three gunicorn servers run at once, the same
command line and gunicorn.conf.py (2 sync workers each), on PostgreSQL + a private Redis:

  ours   config.settings.base with production settings (DEBUG=False, HTTPS redirect on, the
         client sends `X-Forwarded-Proto: https` and `X-Forwarded-For` as the TLS proxy of
         render.yaml would, NUM_PROXIES=1, LOG_TO_STDOUT=True, CONN_MAX_AGE as production),
         throttling off
  stock  bench/stock: Django + DRF + simplejwt (TokenObtainPairView, TokenRefreshView with
         ROTATE_REFRESH_TOKENS + BLACKLIST_AFTER_ROTATION, PBKDF2, JWTAuthentication `me`,
         CONN_MAX_AGE=600)
  floor  bench/floor: one Django view returning constant JSON; no auth, no database

The load generator is wrk (Debian's, `apt-get install wrk`) with bench/wrk/bench.lua: refresh
requests are chained per connection (every request spends a never-used token and the new
one from the response is used next). Each round runs every scenario, its targets back to
back in rotating order; medians over rounds, ratios taken within a round.

Per run: req/s, p50/p99 latency, errors (any non-2xx, and socket errors), app CPU per
request (the gunicorn master and workers, /proc/<pid>/stat, exited workers included) and
database CPU per request (the PostgreSQL backends of that target's database, found through
pg_stat_activity and read from /proc: the server must run on this machine), and the largest
worker RSS.

Scratch databases on the PostgreSQL server (dropped at the end; never the shared `test`
one), a private redis-server on a free port (the "Redis down" scenario kills it by PID and
starts it again), 127.0.0.1 only; every run is bounded by wrk's -d and a subprocess timeout.
Results: printed, and written to bench/results/compare-<time>.json and .md (git-ignored).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devprocs import (  # noqa: E402
    PROD_LIKE_ENV,
    RedisProcess,
    free_port,
    port_open,
    scratch_database_url,
    terminate,
    wait_until,
)

PYTHON = sys.executable
WORKER = str(ROOT / "bench" / "_http_worker.py")
LUA = str(ROOT / "bench" / "wrk" / "bench.lua")
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
EMAIL, PASSWORD = "bench@example.com", "bench-Password-1"
PROXY_HEADERS = "X-Forwarded-Proto: https\nX-Forwarded-For: 203.0.113.7"
TICK = os.sysconf("SC_CLK_TCK")


# --- processes and /proc ---------------------------------------------------------------------
def base_env() -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def ours_env(database_url: str, redis_url: str, log_dir: str) -> dict[str, str]:
    env = {
        **base_env(), **PROD_LIKE_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": "authsvc-bench",
        "LOG_DIR": log_dir,
        "THROTTLE_ENABLED": "False",
        # As in render.yaml: behind one TLS proxy, logs to files and stdout.
        "NUM_PROXIES": "1",
        "LOG_TO_STDOUT": "True",
    }
    env.pop("SECURE_SSL_REDIRECT", None)  # production default: on (the client says https)
    return env


def stock_env(database_url: str) -> dict[str, str]:
    return {**base_env(), "DJANGO_SETTINGS_MODULE": "bench.stock.settings", "DATABASE_URL": database_url}


def floor_env() -> dict[str, str]:
    return {**base_env(), "DJANGO_SETTINGS_MODULE": "bench.floor.settings"}


def run_worker(env: dict[str, str], *args: str, timeout: float = 300) -> dict:
    proc = subprocess.run([PYTHON, WORKER, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args[0]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


@contextmanager
def gunicorn(app: str, env: dict[str, str], *, workers: int) -> Iterator[tuple[str, int]]:
    """The same command line for every target (cwd ROOT, so the same gunicorn.conf.py)."""
    port = free_port()
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
             "--graceful-timeout", "2", "--timeout", "30"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
        )
        try:
            if not wait_until(lambda: answers(f"http://127.0.0.1:{port}"), timeout=90, interval=0.2):
                log.seek(0)
                raise RuntimeError(f"{app} did not start: " + log.read()[-3000:])
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            terminate(proc)


def answers(url: str) -> bool:
    """Does a worker answer HTTP (any status)? An open port only says the master listens."""
    if not port_open("127.0.0.1", int(url.rsplit(":", 1)[1])):
        return False
    try:
        urllib.request.urlopen(url + "/health/live", timeout=5).close()
    except urllib.error.HTTPError:
        pass
    except OSError:
        return False
    return True


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields and int(fields[1]) == pid:
                out.append(int(entry))
    return out


def tree_cpu(master: int) -> float:
    """Seconds of CPU of a gunicorn master, its reaped children and its live workers."""
    fields = _stat(master)
    total = sum(int(x) for x in fields[11:15]) / TICK if fields else 0.0
    for pid in children(master):
        f = _stat(pid)
        if f:
            total += (int(f[11]) + int(f[12])) / TICK
    return total


def rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class Sampler:
    """While a run lasts: CPU of the target's PostgreSQL backends (polled, because a backend
    that exits takes its counters with it) and the largest RSS of any of its workers."""

    def __init__(self, admin, database: str | None, master: int) -> None:
        self.admin, self.database, self.master = admin, database, master
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.max_rss = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _backends(self) -> dict[int, float]:
        if self.database is None:
            return {}
        with self.admin.cursor() as cursor:
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database])
            pids = [row[0] for row in cursor.fetchall()]
        out = {}
        for pid in pids:
            f = _stat(pid)
            if f:
                out[pid] = (int(f[11]) + int(f[12])) / TICK
        return out

    def _sample(self, initial: bool = False) -> None:
        for pid, cpu in self._backends().items():
            if initial:
                self.first[pid] = cpu
            self.last[pid] = cpu
        for pid in children(self.master):
            self.max_rss = max(self.max_rss, rss_kib(pid))

    def _loop(self) -> None:
        while not self.stop.wait(0.25):
            self._sample()

    def __enter__(self) -> Sampler:
        self._sample(initial=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self._sample()

    def db_cpu(self) -> float | None:
        if self.database is None:
            return None
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


# --- one wrk run ----------------------------------------------------------------------------
def wrk(url: str, *, seconds: float, connections: int, threads: int, env: dict[str, str], timeout: int = 5) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--timeout", f"{timeout}s",
           "-s", LUA, url]
    proc = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=seconds + 60)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            return json.loads(line[len("BENCHJSON "):])
    raise RuntimeError(f"wrk gave no result (rc={proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


class Target:
    def __init__(self, name: str, url: str, master: int, database: str | None) -> None:
        self.name, self.url, self.master, self.database = name, url, master, database


class Bench:
    def __init__(self, args, admin, targets: dict[str, Target], tokens: dict[str, list[str]], redis: RedisProcess,
                 tmp: str) -> None:
        self.args, self.admin, self.targets, self.tokens, self.redis, self.tmp = args, admin, targets, tokens, redis, tmp
        self.runs: list[dict] = []

    # Requests per target, per scenario.
    def spec(self, scenario: str, target: str) -> dict[str, str]:
        if scenario == "health":
            return {"BENCH_METHOD": "GET", "BENCH_PATH": "/health", "BENCH_HEADERS": PROXY_HEADERS}
        if scenario == "me":
            access = self.login_access(target)
            return {"BENCH_METHOD": "GET", "BENCH_PATH": "/api/auth/me/",
                    "BENCH_HEADERS": f"{PROXY_HEADERS}\nAuthorization: Bearer {access}"}
        if scenario in ("refresh", "refresh_redis_down"):
            path = "/api/auth/refresh/" if target == "ours" else "/api/token/refresh/"
            return {"BENCH_METHOD": "POST", "BENCH_PATH": path, "BENCH_CHAIN": "refresh",
                    "BENCH_HEADERS": f"{PROXY_HEADERS}\nContent-Type: application/json",
                    "BENCH_TOKENS": self.token_files(target)}
        if scenario == "refresh_cookie":
            # The browser transport: refresh token in the HttpOnly cookie, Django's CSRF check
            # (token in cookie + header, and the Origin, as a browser sends them).
            csrf = "benchcsrf" + "0" * 23  # any 32-character secret: Django compares cookie and header
            origin = "https://" + urlsplit(self.targets[target].url).netloc
            return {"BENCH_METHOD": "POST", "BENCH_PATH": "/api/auth/refresh/", "BENCH_CHAIN": "cookie",
                    "BENCH_COOKIE_NAME": "__Secure-refresh", "BENCH_COOKIE_EXTRA": f"csrftoken={csrf}",
                    "BENCH_HEADERS": f"{PROXY_HEADERS}\nContent-Type: application/json\nX-Auth-Transport: cookie\n"
                                     f"X-CSRFToken: {csrf}\nOrigin: {origin}",
                    "BENCH_TOKENS": self.token_files(target)}
        if scenario == "login":
            if target == "ours":
                path, body = "/api/auth/login/", json.dumps({"email": EMAIL, "password": PASSWORD})
            else:
                path, body = "/api/token/", json.dumps({"username": EMAIL, "password": PASSWORD})
            return {"BENCH_METHOD": "POST", "BENCH_PATH": path, "BENCH_BODY": body,
                    "BENCH_HEADERS": f"{PROXY_HEADERS}\nContent-Type: application/json"}
        raise ValueError(scenario)

    def login_access(self, target: str, *, ours: bool | None = None) -> str:
        t = self.targets[target]
        if ours or (ours is None and target == "ours"):
            path, body = "/api/auth/login/", {"email": EMAIL, "password": PASSWORD}
        else:
            path, body = "/api/token/", {"username": EMAIL, "password": PASSWORD}
        request = urllib.request.Request(
            t.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access"]

    def token_files(self, target: str) -> str:
        """A pool of never-used refresh tokens per wrk thread (more than its connections, so
        a chain that errors does not starve the others at once)."""
        prefix = os.path.join(self.tmp, f"tokens-{target}-{len(self.runs)}")
        per_thread = self.args.pool
        for i in range(1, self.args.threads + 1):
            take = [self.tokens[target].pop() for _ in range(per_thread)]
            Path(f"{prefix}.{i}").write_text("\n".join(take) + "\n")
        return prefix

    def run(self, scenario: str, target: str, *, rnd: int, seconds: float, record: bool = True) -> dict:
        t = self.targets[target]
        env = self.spec(scenario, target)
        conns = self.args.connections
        before = tree_cpu(t.master)
        with Sampler(self.admin, t.database, t.master) as sampler:
            started = time.monotonic()
            # A PBKDF2 login (stock) queued behind 3 others on a busy 2-core box can take > 5 s.
            timeout = 30 if scenario == "login" else 5
            result = wrk(t.url, seconds=seconds, connections=conns, threads=self.args.threads, env=env, timeout=timeout)
            wall = time.monotonic() - started
        app_cpu = tree_cpu(t.master) - before
        db_cpu = sampler.db_cpu()
        n = max(result["requests"], 1)
        errors = result["non2xx"] + result["connect"] + result["read"] + result["write"] + result["timeout"]
        row = {
            "round": rnd, "scenario": scenario, "target": target, "seconds": round(wall, 2),
            "requests": result["requests"], "errors": errors, "non2xx": result["non2xx"],
            "socket_errors": {k: result[k] for k in ("connect", "read", "write", "timeout")},
            "starved": result["starved"], "unparsed": result["unparsed"],
            "rps": result["requests"] / (result["duration_us"] / 1e6),
            "p50_ms": result["p50_us"] / 1000, "p90_ms": result["p90_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "app_cpu_ms": app_cpu * 1000 / n, "db_cpu_ms": None if db_cpu is None else db_cpu * 1000 / n,
            "max_worker_rss_mib": round(sampler.max_rss / 1024, 1),
        }
        if record:
            self.runs.append(row)
        print(f"  r{rnd} {scenario:<19} {target:<6} {row['rps']:8.1f} req/s  p50 {row['p50_ms']:7.2f}  "
              f"p99 {row['p99_ms']:7.2f} ms  err {errors:<4} app {row['app_cpu_ms']:6.2f} ms  "
              f"db {fmt(row['db_cpu_ms'])} ms  rss {row['max_worker_rss_mib']} MiB", flush=True)
        return row

    def redis_down(self, scenario: str, target: str, *, rnd: int, seconds: float) -> dict:
        self.redis.stop()
        try:
            return self.run(scenario, target, rnd=rnd, seconds=seconds)
        finally:
            self.redis.start()


SCENARIOS = {
    # scenario -> targets, in the order of round 0 (rotated each round)
    "health": ["ours", "floor"],
    "me": ["ours", "stock"],
    "refresh": ["ours", "stock"],
    "refresh_redis_down": ["ours"],
    "refresh_cookie": ["ours"],
    "login": ["ours", "stock"],
}


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def med(values: list[float | None]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# --- the hash-bound limit of login --------------------------------------------------------------
def hash_limit(env: dict[str, str], workers: int, count: int) -> dict:
    """CPU seconds of one Argon2id check at our parameters, `workers` processes hashing at
    once; the limit is workers / that (each worker spending all its CPU on the hash)."""
    code = (
        "import os,sys,time,json;sys.path.insert(0,os.getcwd());import django;django.setup();"
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
def summarize(runs: list[dict], limit: dict, per_round_limits: dict[int, dict] | None = None) -> dict:
    keys = ["rps", "p50_ms", "p99_ms", "app_cpu_ms", "db_cpu_ms"]
    table = {}
    for row in runs:
        table.setdefault((row["scenario"], row["target"]), []).append(row)
    medians = {}
    for (scenario, target), rows in table.items():
        medians[f"{scenario}/{target}"] = {
            **{k: med([r[k] for r in rows]) for k in keys},
            "errors": sum(r["errors"] for r in rows), "requests": sum(r["requests"] for r in rows),
            "rounds": len(rows), "max_worker_rss_mib": max(r["max_worker_rss_mib"] for r in rows),
            "p99_over_p50": med([r["p99_ms"] / r["p50_ms"] for r in rows if r["p50_ms"]]),
            "rps_min_max": [min(r["rps"] for r in rows), max(r["rps"] for r in rows)],
        }

    def round_ratio(a: tuple[str, str], b: tuple[str, str]) -> dict | None:
        per_round = []
        for ra in table.get(a, []):
            for rb in table.get(b, []):
                if ra["round"] == rb["round"] and rb["rps"]:
                    per_round.append(ra["rps"] / rb["rps"])
        if not per_round:
            return None
        return {"median": statistics.median(per_round), "min": min(per_round), "max": max(per_round), "rounds": per_round}

    ratios = {
        "health_vs_floor": (round_ratio(("health", "ours"), ("health", "floor")), 0.7),
        "me_vs_stock": (round_ratio(("me", "ours"), ("me", "stock")), 1.3),
        "refresh_vs_stock": (round_ratio(("refresh", "ours"), ("refresh", "stock")), 2.5),
        "login_vs_stock": (round_ratio(("login", "ours"), ("login", "stock")), None),
        "refresh_redis_down_vs_up": (round_ratio(("refresh_redis_down", "ours"), ("refresh", "ours")), 0.7),
        "cookie_refresh_vs_bearer": (round_ratio(("refresh_cookie", "ours"), ("refresh", "ours")), None),
    }
    def cpu_ratio(a: tuple[str, str], b: tuple[str, str]) -> dict | None:
        """CPU per request (app + DB) of b over a's, per round: steadier than req/s on a busy box."""
        per_round = []
        for ra in table.get(a, []):
            for rb in table.get(b, []):
                if ra["round"] == rb["round"]:
                    cost_a = ra["app_cpu_ms"] + (ra["db_cpu_ms"] or 0)
                    cost_b = rb["app_cpu_ms"] + (rb["db_cpu_ms"] or 0)
                    if cost_a:
                        per_round.append(cost_b / cost_a)
        if not per_round:
            return None
        return {"median": statistics.median(per_round), "min": min(per_round), "max": max(per_round),
                "rounds": per_round, "target": None}

    out = {"medians": medians, "ratios": {}, "cpu_ratios": {}, "hash_limit": limit}
    for name, a, b in (
        ("health: floor CPU / ours", ("health", "ours"), ("health", "floor")),
        ("me: stock CPU / ours", ("me", "ours"), ("me", "stock")),
        ("refresh: stock CPU / ours", ("refresh", "ours"), ("refresh", "stock")),
        ("login: stock CPU / ours", ("login", "ours"), ("login", "stock")),
    ):
        value = cpu_ratio(a, b)
        if value is not None:
            out["cpu_ratios"][name] = value
    for name, (value, target) in ratios.items():
        if value is not None:
            out["ratios"][name] = {**value, "target": target}
    login = medians.get("login/ours")
    if login and limit:
        # The measure: the CPU of the hash over all the CPU a login costs (app + DB),
        # per round with the hash measured in that round (both move with the machine's load);
        # req/s over the limit also depends on what else the machine runs (wrk, PostgreSQL).
        shares, rps_shares = [], []
        for row in table.get(("login", "ours"), []):
            lim = (per_round_limits or {}).get(row["round"], limit)
            shares.append(lim["check_cpu_ms"] / (row["app_cpu_ms"] + (row["db_cpu_ms"] or 0)))
            rps_shares.append(row["rps"] / lim["limit_rps"])
        out["ratios"]["login_hash_share_of_cpu"] = {
            "median": statistics.median(shares), "min": min(shares), "max": max(shares), "target": 0.9}
        out["ratios"]["login_vs_hash_limit_rps"] = {"median": statistics.median(rps_shares), "target": None}
        out["hash_limit_per_round"] = per_round_limits or {}
    return out


def markdown(summary: dict, meta: dict) -> str:
    lines = [
        f"# bench/compare.py, {meta['started']}",
        "",
        f"{meta['machine']}; load average at start {meta['loadavg_start']}, at end {meta['loadavg_end']}; "
        f"{meta['rounds']} rounds x {meta['seconds']} s per run; wrk -t{meta['threads']} -c{meta['connections']}; "
        f"gunicorn {meta['workers']} sync workers per target. Medians over rounds.",
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


# --- main --------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds x 5 s per run (~3 minutes)")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; --quick 2)")
    parser.add_argument("--seconds", type=float, help="seconds per run (default 12; --quick 5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers per target")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--pool", type=int, default=8, help="refresh tokens per wrk thread and run")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated subset of: " + ", ".join(SCENARIOS))
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG),
                        help="PostgreSQL server (admin URL) for the scratch databases")
    parser.add_argument("--out", default=str(RESULTS), help="directory for the JSON and markdown results")
    args = parser.parse_args()
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.seconds = args.seconds or (5.0 if args.quick else 12.0)
    wanted = args.scenarios.split(",")
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
    import psycopg2

    started_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    load_start = os.getloadavg()
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="authsvc-compare-")
    admin = psycopg2.connect(args.pg_url, connect_timeout=5)
    admin.autocommit = True
    redis = RedisProcess()
    try:
        redis.start()
        with ExitStack() as stack:
            db_ours = stack.enter_context(scratch_database_url(postgres_url=args.pg_url, prefix="authsvc_bench_ours"))
            db_stock = stack.enter_context(scratch_database_url(postgres_url=args.pg_url, prefix="authsvc_bench_stock"))
            env_ours = ours_env(db_ours, redis.url, os.path.join(tmp, "logs"))
            env_stock = stock_env(db_stock)
            chains = args.rounds + 1  # + the warm-up
            per_run = args.pool * args.threads
            n_ours = per_run * chains * (2 + ("refresh_cookie" in wanted))
            print(f"Preparing scratch databases and {n_ours} + {per_run * chains} refresh tokens...", flush=True)
            tokens = {
                "ours": run_worker(env_ours, "prepare", "--email", EMAIL, "--password", PASSWORD, "--tokens", str(n_ours))["tokens"],
                "stock": run_worker(env_stock, "prepare", "--email", EMAIL, "--password", PASSWORD, "--tokens", str(per_run * chains))["tokens"],
            }
            print("Measuring the hash-bound login limit...", flush=True)
            limit = hash_limit(env_ours, args.workers, 20 if args.quick else 40) if "login" in wanted else {}
            targets = {}
            for name, app, env, db in (
                ("ours", "config.wsgi:application", env_ours, db_ours),
                ("stock", "bench.stock.wsgi:application", env_stock, db_stock),
                ("floor", "bench.floor.wsgi:application", floor_env(), None),
            ):
                url, pid = stack.enter_context(gunicorn(app, env, workers=args.workers))
                targets[name] = Target(name, url, pid, urlsplit(db).path.lstrip("/") if db else None)
            bench = Bench(args, admin, targets, tokens, redis, tmp)
            per_round_limits: dict[int, dict] = {}
            scenarios = {k: v for k, v in SCENARIOS.items() if k in wanted}
            if "refresh_cookie" in wanted and not cookie_transport_available():
                print("(refresh_cookie skipped: apps/accounts/transport.py is not there yet)")
                scenarios.pop("refresh_cookie", None)
            print(f"Warm-up ({len(scenarios)} scenarios, 2 s per target)...", flush=True)
            for scenario, names in scenarios.items():
                for name in names:
                    if scenario in ("refresh_redis_down",):
                        continue
                    bench.run(scenario, name, rnd=-1, seconds=2, record=False)
            for rnd in range(args.rounds):
                print(f"Round {rnd + 1}/{args.rounds}", flush=True)
                for scenario, names in scenarios.items():
                    if scenario == "login":
                        # The hash's cost now, next to the logins it is compared with.
                        per_round_limits[rnd] = hash_limit(env_ours, args.workers, 20)
                    order = names[rnd % len(names):] + names[: rnd % len(names)]
                    for name in order:
                        if scenario == "refresh_redis_down":
                            bench.redis_down(scenario, name, rnd=rnd, seconds=args.seconds)
                        else:
                            bench.run(scenario, name, rnd=rnd, seconds=args.seconds)
            runs = bench.runs
    finally:
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)
        admin.close()
        shutil.rmtree(tmp, ignore_errors=True)
    summary = summarize(runs, limit, per_round_limits)
    meta = {
        "started": started_at, "total_seconds": round(time.monotonic() - t0, 1),
        "machine": f"{os.cpu_count()} CPUs, {platform_line()}",
        "loadavg_start": " ".join(f"{x:.2f}" for x in load_start),
        "loadavg_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "rounds": args.rounds, "seconds": args.seconds, "threads": args.threads,
        "connections": args.connections, "workers": args.workers, "git": git_head(),
    }
    md = markdown(summary, meta)
    print()
    print(md)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "compare-" + started_at.replace(":", "")
    (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "summary": summary, "runs": runs}, indent=2) + "\n")
    (out / f"{stem}.md").write_text(md)
    print(f"Written: {out / stem}.json and .md ({meta['total_seconds']} s in all)")


def platform_line() -> str:
    import platform

    return f"Python {platform.python_version()}, Linux {platform.release()}"


def git_head() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


if __name__ == "__main__":
    main()
