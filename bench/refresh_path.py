"""Refresh path: our session-row rotation against STOCK simplejwt + token_blacklist.

    .venv/bin/python bench/refresh_path.py            # everything, ~3-4 minutes on 2 cores
    .venv/bin/python bench/refresh_path.py --quick    # smaller counts, a smoke run
    .venv/bin/python bench/refresh_path.py --help

A benchmark, not a test: it prints numbers and judges nothing. Both projects run side by
side in the same run, on the same database engine, and the RATIOS ours/stock are what to
compare (absolute numbers move with the machine and its load).

For SQLite and PostgreSQL, with our Redis fast path off and on:
  (a) in-process: a chain of sequential refreshes through Django's test client (each uses
      the previous response's refresh token): refreshes/s, p50/p95 latency, SQL statements
      per refresh (CaptureQueriesContext), writes per refresh, rows the token tables hold
      after the chain (and their size on PostgreSQL);
  (b) over HTTP: the app under gunicorn (2 sync workers, gunicorn.conf.py, throttling off),
      T client threads on 127.0.0.1, each running its own refresh chain.
Stock has no Redis, so it is measured once per database and each of our two Redis modes is
compared against it.

Only 127.0.0.1. Scratch databases (a SQLite file, or `authsvc_bench_<random>` on the
PostgreSQL server, dropped at the end) and a private redis-server on a free port, stopped
by its PID. The shared `test` database and the shared Redis are never touched.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devprocs import (  # noqa: E402
    PROD_LIKE_ENV,
    RedisProcess,
    free_port,
    live_server,
    port_open,
    scratch_database_url,
    terminate,
    wait_until,
)

PYTHON = sys.executable
WORKER = str(ROOT / "bench" / "_refresh_worker.py")
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
STOCK_PATH = "/api/token/refresh/"
OURS_PATH = "/api/auth/refresh/"


# --- scratch resources --------------------------------------------------------------------------
def scratch_database(backend: str, label: str, pg_admin_url: str):
    return scratch_database_url(
        postgres_url=pg_admin_url if backend == "postgres" else None, prefix=f"authsvc_bench_{label}"
    )


def base_env() -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def side_env(impl: str, database_url: str, redis_url: str | None, log_dir: str) -> dict[str, str]:
    if impl == "stock":
        return {**base_env(), "DJANGO_SETTINGS_MODULE": "bench.stock.settings", "DATABASE_URL": database_url}
    env = {
        **base_env(), **PROD_LIKE_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DATABASE_URL": database_url,
        "LOG_DIR": log_dir,
        "THROTTLE_ENABLED": "False",
        "REDIS_KEY_PREFIX": "authsvc-bench",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def worker(env: dict[str, str], *args: str, timeout: float = 120) -> dict:
    """A one-shot worker command (migrate, seed): its JSON answer."""
    proc = subprocess.run(
        [PYTHON, WORKER, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


class ChainProcess:
    """A long-lived worker holding one side's in-process refresh chain; commanded by JSON
    lines so that the sides can be run in alternating slices."""

    def __init__(self, env: dict[str, str], *, profile: bool) -> None:
        self.err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [PYTHON, WORKER, "serve", *(["--profile"] if profile else [])], cwd=ROOT, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err, text=True,
        )
        self.lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            self._read(timeout=120)
        except BaseException:
            self.close()
            raise

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def _read(self, timeout: float) -> dict:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError("worker did not answer in time") from None
        if line is None:
            self.err.seek(0)
            raise RuntimeError("worker died:\n" + self.err.read()[-3000:])
        return json.loads(line)

    def call(self, command: dict, timeout: float) -> dict:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return self._read(timeout)

    def stderr_text(self) -> str:
        self.err.seek(0)
        return self.err.read()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()  # by PID: our own child
        self.proc.wait(timeout=10)
        self.err.close()


@contextmanager
def stock_server(database_url: str, *, workers: int) -> Iterator[tuple[str, int]]:
    """gunicorn serving bench/stock, started like devprocs.live_server starts ours
    (same cwd, so the same gunicorn.conf.py; same worker count), stopped by its PID."""
    port = free_port()
    env = side_env("stock", database_url, None, "")
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "bench.stock.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "--graceful-timeout", "2", "--timeout", "30"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
        )
        try:
            if not wait_until(lambda: port_open("127.0.0.1", port), timeout=30):
                log.seek(0)
                raise RuntimeError("stock gunicorn did not start: " + log.read()[-3000:])
            yield f"http://127.0.0.1:{port}", proc.pid
        finally:
            terminate(proc)


# --- CPU time (Linux /proc): robust where wall-clock numbers are noisy -----------------------------
def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return None
    return data[data.rindex(")") + 2:].split()


def tree_cpu_seconds(root: int) -> float:
    """CPU of a gunicorn master, its exited children, and its live workers."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    fields = _stat_fields(root)
    if fields:
        total += sum(int(x) for x in fields[11:15]) / tick
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields and int(fields[1]) == root:
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


def pg_backends_cpu_seconds(admin, database_url: str) -> float | None:
    """CPU of the PostgreSQL backends connected to one scratch database (server on this
    machine only; None otherwise). Reads pg_stat_activity, nothing else."""
    if admin is None:
        return None
    name = urlsplit(database_url).path.lstrip("/")
    with admin.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name])
        pids = [row[0] for row in cursor.fetchall()]
    if not pids or not all(os.path.exists(f"/proc/{pid}/stat") for pid in pids):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return sum((int(f[11]) + int(f[12])) / tick for f in map(_stat_fields, pids) if f)


# --- HTTP chains --------------------------------------------------------------------------------
def http_chains(base_url: str, path: str, tokens: list[str | None], per_chain: int, seconds: float) -> dict:
    """One thread per live token, each refreshing its own chain `per_chain` times (or until
    `seconds` pass). Returns the chains' next tokens; a failed request ends that chain
    (None: its next token is unknown) and is counted as an error."""
    parts = urlsplit(base_url)
    live = [i for i, t in enumerate(tokens) if t is not None]
    barrier = threading.Barrier(len(live) + 1)
    latencies: dict[int, list[float]] = {i: [] for i in live}
    errors: list[str] = []
    ends: dict[int, float] = {}
    out = list(tokens)
    headers = {"Content-Type": "application/json", "User-Agent": "authsvc-bench/1"}

    def chain(i: int) -> None:
        token = tokens[i]
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        barrier.wait()
        deadline = time.monotonic() + seconds
        try:
            for _ in range(per_chain):
                if time.monotonic() > deadline:
                    break
                body = json.dumps({"refresh": token})
                t0 = time.perf_counter()
                try:
                    conn.request("POST", path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                except (OSError, http.client.HTTPException) as exc:
                    errors.append(type(exc).__name__)
                    token = None
                    break
                if response.status != 200:
                    errors.append(f"HTTP {response.status}: {data[:120]!r}")
                    token = None
                    break
                latencies[i].append(time.perf_counter() - t0)
                token = json.loads(data)["refresh"]
        finally:
            out[i] = token
            ends[i] = time.perf_counter()
            conn.close()

    threads = [threading.Thread(target=chain, args=(i,), daemon=True) for i in live]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    flat = [x for i in live for x in latencies[i]]
    elapsed = (max(ends.values()) - started) if ends else 0.0
    return {"ok": len(flat), "elapsed_s": elapsed, "latencies_s": flat, "errors": errors, "tokens": out}


# --- statistics and printing --------------------------------------------------------------------
def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary(result: dict) -> dict:
    lat = result["latencies_s"]
    return {
        "rps": len(lat) / result["elapsed_s"] if result["elapsed_s"] else float("nan"),
        "p50_ms": pct(lat, 50) * 1000,
        "p95_ms": pct(lat, 95) * 1000,
        "count": len(lat),
    }


def fmt_ratio(x: float) -> str:
    return f"{x:.2f}x"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def label(impl: str, redis: bool | None) -> str:
    if impl == "stock":
        return "stock simplejwt+blacklist"
    return "ours, Redis on" if redis else "ours, Redis off"


# --- main ---------------------------------------------------------------------------------------
CONFIGS = [("stock", None), ("ours", False), ("ours", True)]


def rotated(items: list, k: int) -> list:
    k %= len(items)
    return items[k:] + items[:k]


def run_inprocess(envs: dict, args) -> dict:
    """The three sides' chains in alternating slices; equal refresh counts for all sides
    (the budget is checked between complete rounds of slices)."""
    per_slice = max(1, -(-args.n // args.slices))
    acc = {c: {"latencies_s": [], "elapsed_s": 0.0, "cpu_s": 0.0, "db_cpu_s": 0.0} for c in CONFIGS}
    procs: dict[tuple, ChainProcess] = {}
    try:
        for config in CONFIGS:
            procs[config] = ChainProcess(envs[config], profile=args.profile)
        deadline = time.monotonic() + args.inprocess_budget
        for i in range(args.slices):
            if i and time.monotonic() > deadline:
                print(f"   in-process budget reached after {i} of {args.slices} slices", file=sys.stderr)
                break
            for config in rotated(CONFIGS, i):
                part = procs[config].call({"run": per_slice, "seconds": args.seconds}, timeout=args.seconds + 60)
                acc[config]["latencies_s"] += part["latencies_s"]
                acc[config]["elapsed_s"] += part["elapsed_s"]
                acc[config]["cpu_s"] += part["cpu_s"]
                if part["db_cpu_s"] is None or acc[config]["db_cpu_s"] is None:
                    acc[config]["db_cpu_s"] = None
                else:
                    acc[config]["db_cpu_s"] += part["db_cpu_s"]
        results = {}
        for config in CONFIGS:
            final = procs[config].call({"finish": args.sample}, timeout=120)
            results[config] = {**final, **acc[config]}
            if args.profile:
                sys.stderr.write(procs[config].stderr_text())
        return results
    finally:
        for proc in procs.values():
            proc.close()


def run_http(dbs: dict, envs: dict, redis_url: str, args) -> dict:
    """Three servers up at once (idle ones cost nothing), driven in alternating slices."""
    with ExitStack() as stack:
        urls, pids = {}, {}
        admin = None
        if dbs[CONFIGS[0]].startswith("postgres"):
            import psycopg2

            admin = psycopg2.connect(args.pg_url, connect_timeout=5)
            admin.autocommit = True
            stack.callback(admin.close)
        for impl, redis_on in CONFIGS:
            if impl == "stock":
                url, pid = stack.enter_context(stock_server(dbs[(impl, redis_on)], workers=args.workers))
                urls[(impl, redis_on)], pids[(impl, redis_on)] = url, pid
            else:
                overrides = {"DATABASE_URL": dbs[(impl, redis_on)], "THROTTLE_ENABLED": "False",
                             "REDIS_KEY_PREFIX": "authsvc-bench"}
                if redis_on:
                    overrides["REDIS_URL"] = redis_url
                live = stack.enter_context(live_server(workers=args.workers, migrate=False, **overrides))
                urls[(impl, redis_on)], pids[(impl, redis_on)] = live.url, live.proc.pid
        tokens, acc = {}, {}
        for config in CONFIGS:
            impl = config[0]
            seeded = worker(envs[config], "seed", "--count", str(2 * args.threads))["tokens"]
            path = OURS_PATH if impl == "ours" else STOCK_PATH
            warm = http_chains(urls[config], path, seeded[: args.threads], args.http_warmup, 30)
            if warm["errors"]:
                raise RuntimeError(f"{label(*config)}: warm-up failed: {warm['errors'][0]}")
            tokens[config] = seeded[args.threads:]
            acc[config] = {"latencies_s": [], "elapsed_s": 0.0, "errors": [], "cpu_s": 0.0, "db_cpu_s": 0.0}
        per_slice = max(1, -(-args.chain // args.slices))
        deadline = time.monotonic() + args.http_budget
        for i in range(args.slices):
            if i and time.monotonic() > deadline:
                print(f"   HTTP budget reached after {i} of {args.slices} slices", file=sys.stderr)
                break
            for config in rotated(CONFIGS, i):
                path = OURS_PATH if config[0] == "ours" else STOCK_PATH
                cpu0 = tree_cpu_seconds(pids[config])
                db0 = pg_backends_cpu_seconds(admin, dbs[config])
                part = http_chains(urls[config], path, tokens[config], per_slice, args.seconds)
                db1 = pg_backends_cpu_seconds(admin, dbs[config])
                acc[config]["cpu_s"] += tree_cpu_seconds(pids[config]) - cpu0
                if db0 is None or db1 is None or acc[config]["db_cpu_s"] is None or db1 < db0:
                    acc[config]["db_cpu_s"] = None
                else:
                    acc[config]["db_cpu_s"] += db1 - db0
                tokens[config] = part["tokens"]
                acc[config]["latencies_s"] += part["latencies_s"]
                acc[config]["elapsed_s"] += part["elapsed_s"]
                acc[config]["errors"] += part["errors"]
        for config in CONFIGS:
            acc[config]["ok"] = len(acc[config]["latencies_s"])
            if acc[config]["errors"]:
                print(f"  ! {label(*config)}: {len(acc[config]['errors'])} error(s), e.g. {acc[config]['errors'][0]}",
                      file=sys.stderr)
        return acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgres", help="comma list: sqlite,postgres")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG),
                        help="PostgreSQL server for scratch databases (this db is only used to CREATE/DROP them)")
    parser.add_argument("--n", type=int, default=2000, help="in-process refreshes per side (one chain each)")
    parser.add_argument("--threads", type=int, default=4, help="HTTP client threads (one chain each)")
    parser.add_argument("--chain", type=int, default=500, help="HTTP refreshes per thread")
    parser.add_argument("--slices", type=int, default=10, help="the sides alternate in this many slices")
    parser.add_argument("--sample", type=int, default=50, help="refreshes under CaptureQueriesContext")
    parser.add_argument("--http-warmup", type=int, default=25, help="untimed HTTP refreshes per thread first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (each side)")
    parser.add_argument("--inprocess-budget", type=float, default=40.0,
                        help="seconds per database; no new round of slices starts after it")
    parser.add_argument("--http-budget", type=float, default=45.0,
                        help="seconds per database; no new round of slices starts after it")
    parser.add_argument("--seconds", type=float, default=30.0, help="hard time cap of any one slice")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-inprocess", action="store_true")
    parser.add_argument("--profile", action="store_true", help="cProfile the in-process chains (to stderr)")
    parser.add_argument("--quick", action="store_true", help="n=300, chain=100, slices=3: a smoke run")
    parser.add_argument("--json", help="also write raw results here")
    args = parser.parse_args()
    if args.quick:
        args.n, args.chain, args.slices = 300, 100, 3
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    t_start = time.monotonic()
    redis = RedisProcess()
    redis.start()
    log_dir = tempfile.mkdtemp(prefix="authsvc-bench-logs-")
    inproc: dict[tuple, dict] = {}
    over_http: dict[tuple, dict] = {}
    try:
        for backend in backends:
            if backend == "postgres":
                host = urlsplit(args.pg_url)
                if not port_open(host.hostname or "127.0.0.1", host.port or 5432):
                    print(f"PostgreSQL not reachable at {host.hostname}:{host.port}; skipped", file=sys.stderr)
                    continue
            print(f"== {backend}", file=sys.stderr)
            with ExitStack() as stack:
                # One scratch database per side: row counts and sizes are each side's own.
                dbs = {c: stack.enter_context(scratch_database(backend, c[0], args.pg_url)) for c in CONFIGS}
                envs = {c: side_env(c[0], dbs[c], redis.url if c[1] else None, log_dir) for c in CONFIGS}
                for config in CONFIGS:
                    worker(envs[config], "migrate")
                if not args.skip_inprocess:
                    print("   in-process", file=sys.stderr)
                    for config, result in run_inprocess(envs, args).items():
                        inproc[(backend, *config)] = result
                if not args.skip_http:
                    print("   HTTP", file=sys.stderr)
                    for config, result in run_http(dbs, envs, redis.url, args).items():
                        over_http[(backend, *config)] = result
    finally:
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)
        shutil.rmtree(log_dir, ignore_errors=True)

    report(inproc, over_http, backends, args, time.monotonic() - t_start)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"inprocess": {"|".join(map(str, k)): v for k, v in inproc.items()},
             "http": {"|".join(map(str, k)): {kk: vv for kk, vv in v.items() if kk != "tokens"}
                      for k, v in over_http.items()}}, default=str))


def per_refresh_ms(result: dict, key: str) -> float | None:
    value, count = result.get(key), len(result["latencies_s"])
    return None if value is None or not count else value / count * 1000


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def ratio(ours: float | None, stock: float | None) -> str:
    return "-" if ours is None or not stock else f"{ours / stock:.2f}x"


def side_rows(results: dict) -> list[list[str]]:
    rows = []
    for (backend, impl, redis_on), r in results.items():
        s = summary(r)
        rows.append([backend, label(impl, redis_on), str(s["count"]), f"{s['rps']:.0f}", ms(s["p50_ms"]),
                     ms(s["p95_ms"]), ms(per_refresh_ms(r, "cpu_s")), ms(per_refresh_ms(r, "db_cpu_s"))])
    return rows


def ratio_rows(results: dict, backends: list[str], extra=None) -> list[list[str]]:
    rows = []
    for backend in backends:
        stock = results.get((backend, "stock", None))
        if stock is None:
            continue
        st = summary(stock)
        for redis_on in (False, True):
            ours = results.get((backend, "ours", redis_on))
            if ours is None:
                continue
            o = summary(ours)
            row = [backend, label("ours", redis_on), ratio(o["rps"], st["rps"]), ratio(o["p50_ms"], st["p50_ms"]),
                   ratio(o["p95_ms"], st["p95_ms"]),
                   ratio(per_refresh_ms(ours, "cpu_s"), per_refresh_ms(stock, "cpu_s")),
                   ratio(per_refresh_ms(ours, "db_cpu_s"), per_refresh_ms(stock, "db_cpu_s"))]
            rows.append(row + (extra(ours, stock) if extra else []))
    return rows


def report(inproc: dict, over_http: dict, backends: list[str], args, total_s: float) -> None:
    print()
    print(f"Refresh path benchmark, {date.today().isoformat()}, {os.cpu_count()} CPU(s), "
          f"Python {sys.version.split()[0]}; total {total_s:.0f} s")
    print("app CPU = CPU time of the Django process(es) per refresh; DB CPU = CPU time of the PostgreSQL")
    print("backends serving them (SQLite runs inside the app). CPU times are less disturbed than wall-clock")
    print("numbers by whatever else the machine is doing.")
    base_headers = ["db", "side", "refreshes", "req/s", "p50 ms", "p95 ms", "app CPU ms", "DB CPU ms"]
    ratio_headers = ["db", "side", "req/s", "p50", "p95", "app CPU", "DB CPU"]
    if inproc:
        print()
        print(f"(a) In-process (Django test client): per side one chain of up to {args.n} sequential refreshes, "
              f"the sides alternating in {args.slices} slices")
        print_table(base_headers, side_rows(inproc))
        print()
        rows = []
        for (backend, impl, redis_on), r in inproc.items():
            kinds = ", ".join(f"{k} {v:g}" for k, v in r["query_kinds_per_refresh"].items())
            rows.append([
                backend, label(impl, redis_on), f"{r['queries_per_refresh']:g} ({kinds})",
                f"{r['writes_per_refresh']:g}", f"{r['rows_total_after']} after {r['refreshes']}",
                "-" if r["bytes_after"] is None else f"{r['bytes_after'] / 1024:.0f} KiB",
                "-" if r["redis_commands_per_refresh"] is None else f"{r['redis_commands_per_refresh']:g}",
            ])
        print_table(["db", "side", "SQL statements per refresh (incl. BEGIN/COMMIT)", "row writes/refresh",
                     "token-table rows", "token-table size", "Redis cmds/refresh"], rows)
        print()
        print("    ratios ours/stock, same run (req/s > 1: ours faster; the others < 1: ours less)")
        print_table(ratio_headers + ["SQL statements"], ratio_rows(
            inproc, backends, lambda o, s: [ratio(o["queries_per_refresh"], s["queries_per_refresh"])]))
        for (backend, _impl, _redis_on), r in inproc.items():
            if r.get("redis_check_ms"):
                check = r["redis_check_ms"]
                print(f"    {backend}: the Redis revocation check alone (what Redis on adds to an accepted refresh): "
                      f"{check['wall']:.3f} ms wall, {check['cpu']:.3f} ms CPU")
    if over_http:
        print()
        print(f"(b) HTTP: gunicorn, {args.workers} sync workers per side; {args.threads} client threads, "
              f"each one chain of up to {args.chain} refreshes; the sides alternating in {args.slices} slices")
        rows = side_rows(over_http)
        for row, r in zip(rows, over_http.values(), strict=True):
            row.insert(3, str(len(r["errors"])))
        print_table(base_headers[:3] + ["errors"] + base_headers[3:], rows)
        print()
        print("    ratios ours/stock, same run")
        print_table(ratio_headers, ratio_rows(over_http, backends))
    if inproc:
        print()
        print("SQL of one refresh (first 160 characters of each statement):")
        for (backend, impl, redis_on), r in inproc.items():
            if impl == "ours" and redis_on:
                continue
            print(f"  {backend} / {label(impl, redis_on)}:")
            for sql in r["example_queries"]:
                print(f"    {sql}")


if __name__ == "__main__":
    main()
