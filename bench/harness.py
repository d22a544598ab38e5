"""The one HTTP harness of bench/: processes, wrk, CPU accounting, results.

compare.py, scale.py and spy.py declare *what* to run (targets, scenarios); this module is
*how*: a private redis-server on a free port, scratch PostgreSQL databases (devprocs; never the
shared `test` database, dropped at the end), gunicorn targets with the same command line and
gunicorn.conf.py, wrk + bench/wrk/bench.lua as the load, and per run: req/s, p50/p90/p99,
errors (every non-2xx and every socket error), app CPU per request (gunicorn master + workers,
exited workers included, /proc/<pid>/stat), database CPU per request (the target database's
PostgreSQL backends, found through pg_stat_activity and polled every 0.25 s because a backend
that exits takes its counters along: the server must run on this machine), the largest worker
RSS. 127.0.0.1 only; every run is bounded by wrk's -d and a subprocess timeout; processes are
stopped by PID.

Run the scripts as modules from the repository root (`python -m bench.scale`), which puts the
root on sys.path; `bench/compare.py` also runs as a path (see its last lines).
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from devprocs import PROD_LIKE_ENV, RedisProcess, free_port, port_open, scratch_database_url, terminate, wait_until

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
LUA = str(ROOT / "bench" / "wrk" / "bench.lua")
RESULTS = ROOT / "bench" / "results"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
EMAIL, PASSWORD = "bench@example.com", "bench-Password-1"
PROXY_HEADERS = "X-Forwarded-Proto: https\nX-Forwarded-For: 203.0.113.7"
TICK = os.sysconf("SC_CLK_TCK")


# --- targets -----------------------------------------------------------------------------------
def base_env() -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def ours_env(database_url: str, redis_url: str, log_dir: str, **extra: str) -> dict[str, str]:
    """Production settings as in render.yaml (behind one TLS proxy, logs to files and stdout,
    HTTPS redirect on: the client says https), throttling off."""
    env = {
        **base_env(), **PROD_LIKE_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": database_url,
        "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": "authsvc-bench", "LOG_DIR": log_dir,
        "THROTTLE_ENABLED": "False", "NUM_PROXIES": "1", "LOG_TO_STDOUT": "True", **extra,
    }
    env.pop("SECURE_SSL_REDIRECT", None)
    return env


def stock_env(database_url: str) -> dict[str, str]:
    return {**base_env(), "DJANGO_SETTINGS_MODULE": "bench.stock.settings", "DATABASE_URL": database_url}


def floor_env() -> dict[str, str]:
    return {**base_env(), "DJANGO_SETTINGS_MODULE": "bench.floor.settings"}


def eddsa_env() -> dict[str, str]:
    """Ours signing access tokens with EdDSA (a fresh Ed25519 key) instead of HS256."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return {"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY": pem.decode()}


# kind -> (WSGI app, needs a database); "ours" targets may differ by extra environment.
APPS = {"ours": ("config.wsgi:application", True), "stock": ("bench.stock.wsgi:application", True),
        "floor": ("bench.floor.wsgi:application", False)}


def run_worker(env: dict[str, str], *args: str, timeout: float = 300) -> dict:
    """bench/_http_worker.py inside one target's settings (ours and stock are two projects)."""
    proc = subprocess.run([PYTHON, "-m", "bench._http_worker", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)
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


# --- /proc ---------------------------------------------------------------------------------------
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
    """While a run lasts: CPU of the target's PostgreSQL backends and the largest worker RSS."""

    def __init__(self, admin, database: str | None, master: int) -> None:
        self.admin, self.database, self.master = admin, database, master
        self.first: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.max_rss = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self, initial: bool = False) -> None:
        if self.database is not None and self.admin is not None:
            with self.admin.cursor() as cursor:
                cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database])
                pids = [row[0] for row in cursor.fetchall()]
            for pid in pids:
                f = _stat(pid)
                if f:
                    cpu = (int(f[11]) + int(f[12])) / TICK
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
        if self.database is None or self.admin is None:
            return None
        return sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())


def wrk(url: str, *, seconds: float, connections: int, threads: int, env: dict[str, str], timeout: int = 5) -> dict:
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s",
           "--timeout", f"{timeout}s", "-s", LUA, url]
    proc = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=seconds + 60)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            return json.loads(line[len("BENCHJSON "):])
    raise RuntimeError(f"wrk gave no result (rc={proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


# --- scenarios -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """One kind of request, declared: which targets serve it and what wrk sends.

    `auth`: a bearer access token from a login made just before the run. `chain`: "refresh"
    (every request spends a never-used refresh token from the body; the response's new one goes
    back into the wrk thread's pool) or "cookie" (the same in the HttpOnly cookie, with Django's
    CSRF pair and the Origin a browser sends). `redis_down`: the private Redis is killed by PID
    right before the run and started again after."""

    name: str
    targets: tuple[str, ...]
    method: str = "GET"
    path: dict[str, str] = field(default_factory=dict)  # target kind -> path
    body: dict[str, dict] = field(default_factory=dict)  # target kind -> JSON body
    auth: bool = False
    chain: str = ""
    redis_down: bool = False
    timeout: int = 5


LOGIN_PATH = {"ours": "/api/auth/login/", "stock": "/api/token/"}
LOGIN_BODY = {"ours": {"email": EMAIL, "password": PASSWORD}, "stock": {"username": EMAIL, "password": PASSWORD}}
CSRF = "benchcsrf" + "0" * 23  # any 32-character secret: Django compares cookie and header


@dataclass
class Target:
    name: str
    kind: str  # a key of APPS
    url: str
    master: int
    database: str | None
    tokens: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


class Bench:
    """Runs scenarios against running targets and keeps every run's row."""

    def __init__(self, args, admin, targets: dict[str, Target], redis: RedisProcess, tmp: str) -> None:
        self.args, self.admin, self.targets, self.redis, self.tmp = args, admin, targets, redis, tmp
        self.runs: list[dict] = []

    def spec(self, scenario: Scenario, target: str) -> dict[str, str]:
        t = self.targets[target]
        headers = [PROXY_HEADERS]
        env = {"BENCH_METHOD": scenario.method, "BENCH_PATH": scenario.path.get(t.kind, scenario.path.get("*", "/"))}
        if scenario.method == "POST":
            headers.append("Content-Type: application/json")
        if t.kind in scenario.body:
            env["BENCH_BODY"] = json.dumps(scenario.body[t.kind])
        if scenario.auth:
            headers.append(f"Authorization: Bearer {self.login_access(target)}")
        if scenario.chain:
            env["BENCH_CHAIN"] = scenario.chain
            env["BENCH_TOKENS"] = self.token_files(target)
        if scenario.chain == "cookie":
            env |= {"BENCH_COOKIE_NAME": "__Secure-refresh", "BENCH_COOKIE_EXTRA": f"csrftoken={CSRF}"}
            origin = "https://" + urlsplit(t.url).netloc
            headers += ["X-Auth-Transport: cookie", f"X-CSRFToken: {CSRF}", f"Origin: {origin}"]
        env["BENCH_HEADERS"] = "\n".join(headers)
        return env

    def login_access(self, target: str) -> str:
        t = self.targets[target]
        request = urllib.request.Request(
            t.url + LOGIN_PATH[t.kind], data=json.dumps(LOGIN_BODY[t.kind]).encode(), method="POST",
            headers={"Content-Type": "application/json", "X-Forwarded-Proto": "https"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["access"]

    def token_files(self, target: str) -> str:
        """A pool of never-used refresh tokens per wrk thread (more than its connections, so a
        chain that errors does not starve the others at once)."""
        prefix = os.path.join(self.tmp, f"tokens-{target}-{len(self.runs)}-{time.monotonic_ns()}")
        for i in range(1, self.args.threads + 1):
            take = [self.targets[target].tokens.pop() for _ in range(self.args.pool)]
            Path(f"{prefix}.{i}").write_text("\n".join(take) + "\n")
        return prefix

    def run(self, scenario: Scenario, target: str, *, rnd: int, seconds: float, record: bool = True) -> dict:
        if scenario.redis_down:
            self.redis.stop()
        try:
            return self._run(scenario, target, rnd=rnd, seconds=seconds, record=record)
        finally:
            if scenario.redis_down:
                self.redis.start()

    def _run(self, scenario: Scenario, target: str, *, rnd: int, seconds: float, record: bool) -> dict:
        t = self.targets[target]
        env = self.spec(scenario, target)
        before = tree_cpu(t.master)
        with Sampler(self.admin, t.database, t.master) as sampler:
            started = time.monotonic()
            result = wrk(t.url, seconds=seconds, connections=self.args.connections, threads=self.args.threads,
                         env=env, timeout=scenario.timeout)
            wall = time.monotonic() - started
        app_cpu = tree_cpu(t.master) - before
        db_cpu = sampler.db_cpu()
        n = max(result["requests"], 1)
        errors = result["non2xx"] + result["connect"] + result["read"] + result["write"] + result["timeout"]
        row = {
            "round": rnd, "scenario": scenario.name, "target": target, "seconds": round(wall, 2),
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
        print(f"  r{rnd} {scenario.name:<19} {target:<10} {row['rps']:8.1f} req/s  p50 {row['p50_ms']:7.2f}  "
              f"p99 {row['p99_ms']:7.2f} ms  err {errors:<4} app {row['app_cpu_ms']:6.2f} ms  "
              f"db {fmt(row['db_cpu_ms'])} ms  rss {row['max_worker_rss_mib']} MiB", flush=True)
        return row


@contextmanager
def lab(args, targets: dict[str, tuple[str, dict[str, str]]], *, tokens: dict[str, int],
        seed=None) -> Iterator[Bench]:
    """Start everything, yield a Bench, stop everything (by PID) and drop the scratch databases.

    `targets`: name -> (kind, extra environment of an "ours" target); `tokens`: name -> how many
    never-used refresh tokens to mint (each its own session); `seed(name, env)`: called after a
    target's database is migrated, before its server starts (scale.py's bulk rows)."""
    import psycopg2

    tmp = tempfile.mkdtemp(prefix="authsvc-bench-")
    admin = psycopg2.connect(args.pg_url, connect_timeout=5)
    admin.autocommit = True
    redis = RedisProcess()
    try:
        redis.start()
        with ExitStack() as stack:
            running: dict[str, Target] = {}
            for name, (kind, extra) in targets.items():
                app, needs_db = APPS[kind]
                db = None
                if needs_db:
                    db = stack.enter_context(scratch_database_url(postgres_url=args.pg_url, prefix=f"authsvc_bench_{name}"))
                env = (ours_env(db, redis.url, os.path.join(tmp, f"logs-{name}"), **extra) if kind == "ours"
                       else stock_env(db) if kind == "stock" else floor_env())
                minted = []
                if needs_db:
                    print(f"Preparing {name} ({tokens.get(name, 0)} refresh tokens)...", flush=True)
                    minted = run_worker(env, "prepare", "--email", EMAIL, "--password", PASSWORD,
                                        "--tokens", str(tokens.get(name, 0)))["tokens"]
                    if seed:
                        seed(name, env)
                url, pid = stack.enter_context(gunicorn(app, env, workers=args.workers))
                running[name] = Target(name, kind, url, pid, urlsplit(db).path.lstrip("/") if db else None, minted, env)
            yield Bench(args, admin, running, redis, tmp)
    finally:
        redis.stop()
        shutil.rmtree(redis.dir, ignore_errors=True)
        admin.close()
        shutil.rmtree(tmp, ignore_errors=True)


# --- results -------------------------------------------------------------------------------------
def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def meta(args, started: str, t0: float, load_start: tuple[float, ...]) -> dict:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head = "?"
    return {
        "started": started, "total_seconds": round(time.monotonic() - t0, 1),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}, Linux {platform.release()}",
        "loadavg_start": " ".join(f"{x:.2f}" for x in load_start),
        "loadavg_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "rounds": args.rounds, "seconds": args.seconds, "threads": args.threads,
        "connections": args.connections, "workers": args.workers, "git": head,
    }


def now_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_results(out: str, name: str, started: str, data: dict, md: str) -> None:
    """Print the markdown; write <out>/<name>-<time>.json and .md (bench/results/ is git-ignored)."""
    print()
    print(md)
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    stem = f"{name}-" + started.replace(":", "")
    (path / f"{stem}.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    (path / f"{stem}.md").write_text(md)
    print(f"Written: {path / stem}.json and .md")


def add_common_args(parser, *, seconds: float, quick_seconds: float) -> None:
    """The options every HTTP script shares (targets, load, output)."""
    parser.add_argument("--quick", action="store_true", help=f"2 rounds x {quick_seconds:g} s per run")
    parser.add_argument("--rounds", type=int, help="rounds (default 3; --quick 2)")
    parser.add_argument("--seconds", type=float, help=f"seconds per run (default {seconds:g})")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per target (class and threads: gunicorn.conf.py)")
    parser.add_argument("--connections", type=int, default=4, help="wrk connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--pool", type=int, default=8, help="refresh tokens per wrk thread and run")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG),
                        help="PostgreSQL server (admin URL) for the scratch databases")
    parser.add_argument("--out", default=str(RESULTS), help="directory for the JSON and markdown results")
    parser.set_defaults(_seconds=seconds, _quick_seconds=quick_seconds)


def finish_args(args) -> None:
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.seconds = args.seconds or (args._quick_seconds if args.quick else args._seconds)
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install wrk")
