"""One side of bench/refresh_path.py, in a process of its own (Django settings are per
process, and ours and stock are two different projects). Driven by refresh_path.py through
the environment (DJANGO_SETTINGS_MODULE, DATABASE_URL, REDIS_URL, ...); prints one JSON
object on stdout.

Modes:
  migrate    create the tables of the scratch database
  serve      a chain of sequential refreshes through Django's test client (the full
             middleware stack and view, no network), run in slices on command (JSON
             lines on stdin), then a sample under CaptureQueriesContext to count SQL
             statements per refresh
  seed       empty the token tables, make the bench user, print N first refresh tokens
             (for the HTTP chains)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

USER_AGENT = "authsvc-bench/1"


class Ours:
    name = "ours"
    url = "/api/auth/refresh/"

    def __init__(self) -> None:
        from apps.accounts.models import RefreshSession

        self.tables = {"accounts_refreshsession": RefreshSession}

    def user(self):
        from apps.accounts.models import User
        from apps.tenants.models import Tenant

        tenant, _ = Tenant.objects.get_or_create(
            slug="bench", defaults={"name": "Bench", "enabled_modules": ["crm", "billing"]}
        )
        user = User.objects.filter(email="bench@example.com").first()
        if user is None:
            user = User(email="bench@example.com", tenant=tenant, role="owner")
            user.set_unusable_password()
            user.save()
        return user

    def first_refresh(self, user) -> str:
        from apps.accounts.services import session_create

        return session_create(user=user, ip="127.0.0.1", user_agent=USER_AGENT).refresh


class Stock:
    name = "stock"
    url = "/api/token/refresh/"

    def __init__(self) -> None:
        from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

        # BlacklistedToken first: it references OutstandingToken.
        self.tables = {
            "token_blacklist_blacklistedtoken": BlacklistedToken,
            "token_blacklist_outstandingtoken": OutstandingToken,
        }

    def user(self):
        from django.contrib.auth import get_user_model

        User = get_user_model()
        user = User.objects.filter(username="bench").first()
        if user is None:
            user = User(username="bench", email="bench@example.com")
            user.set_unusable_password()
            user.save()
        return user

    def first_refresh(self, user) -> str:
        from rest_framework_simplejwt.tokens import RefreshToken

        return str(RefreshToken.for_user(user))  # writes its OutstandingToken row


def reset(impl) -> None:
    for model in impl.tables.values():
        model.objects.all().delete()


def row_counts(impl) -> dict[str, int]:
    return {table: model.objects.count() for table, model in impl.tables.items()}


def table_bytes(impl) -> int | None:
    """Heap + indexes + TOAST of the token tables (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        total = 0
        for table in impl.tables:
            cursor.execute("SELECT pg_total_relation_size(%s)", [table])
            total += cursor.fetchone()[0]
        return total


def redis_commands() -> int | None:
    url = os.environ.get("REDIS_URL")
    if not url:
        return None
    import redis

    return int(redis.Redis.from_url(url, socket_timeout=2).info("stats")["total_commands_processed"])


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc); 0.0 if it is gone or unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except OSError:
        return 0.0
    fields = data[data.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def db_backend_pid() -> int | None:
    """The PostgreSQL backend serving this process's connection, when it runs on this
    machine (127.0.0.1), so that its CPU time can be read; None on SQLite."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return pid if os.path.exists(f"/proc/{pid}/stat") else None


def redis_check_cost(count: int = 1000) -> dict:
    """What the Redis fast path adds to every refresh: one revocation_cache check, alone."""
    from apps.accounts import revocation_cache

    sid = "00000000-0000-0000-0000-000000000000"
    cpu0, t0 = time.process_time(), time.perf_counter()
    for _ in range(count):
        revocation_cache.is_marked_revoked(sid)
    return {"wall": (time.perf_counter() - t0) / count * 1000, "cpu": (time.process_time() - cpu0) / count * 1000}


def refresh(client: Client, impl, token: str) -> str:
    response = client.post(impl.url, data=json.dumps({"refresh": token}), content_type="application/json")
    if response.status_code != 200:
        raise RuntimeError(f"{impl.name}: refresh answered {response.status_code}: {response.content[:300]!r}")
    return json.loads(response.content)["refresh"]


def classify(sql: str) -> str:
    word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
    known = {"SELECT", "INSERT", "UPDATE", "DELETE", "SAVEPOINT", "RELEASE", "BEGIN", "COMMIT", "ROLLBACK"}
    return word if word in known else "OTHER"


class Chain:
    """One side's refresh chain, run in slices so that refresh_path.py can interleave the
    sides in time (the machine's noise then hits all of them alike)."""

    def __init__(self, impl, *, warmup: int, profile: bool) -> None:
        self.impl = impl
        self.client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="127.0.0.1", HTTP_USER_AGENT=USER_AGENT)
        user = impl.user()
        # Warm-up (imports, URL resolver, connection), then start again from empty tables.
        token = impl.first_refresh(user)
        for _ in range(warmup):
            token = refresh(self.client, impl, token)
        reset(impl)
        self.token = impl.first_refresh(user)
        self.refreshes = 0
        self.profiler = None
        if profile:
            import cProfile

            self.profiler = cProfile.Profile()

    def run(self, count: int, seconds: float) -> dict:
        """`count` sequential refreshes (fewer if `seconds` run out)."""
        latencies: list[float] = []
        if self.profiler is not None:
            self.profiler.enable()
        backend = db_backend_pid()
        db_cpu_started = proc_cpu_seconds(backend) if backend else None
        deadline = time.monotonic() + seconds
        cpu_started = time.process_time()
        started = time.perf_counter()
        for _ in range(count):
            if time.monotonic() > deadline:
                break
            t0 = time.perf_counter()
            self.token = refresh(self.client, self.impl, self.token)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        db_cpu = None
        if backend and backend == db_backend_pid():
            db_cpu = proc_cpu_seconds(backend) - db_cpu_started
        if self.profiler is not None:
            self.profiler.disable()
        self.refreshes += len(latencies)
        return {"latencies_s": latencies, "elapsed_s": elapsed, "cpu_s": cpu, "db_cpu_s": db_cpu}

    def finish(self, sample: int) -> dict:
        """Table state after the chain, then SQL statements per refresh on `sample` more
        (apart from the timed chain: capturing costs time)."""
        if self.profiler is not None:
            import io
            import pstats

            out = io.StringIO()
            stats = pstats.Stats(self.profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(40)
            out.write("\n--- by own time ---\n")
            stats.sort_stats("tottime").print_stats(25)
            sys.stderr.write(f"===== profile: {self.impl.name}, REDIS_URL={'set' if os.environ.get('REDIS_URL') else 'unset'} =====\n")
            sys.stderr.write(out.getvalue())
            sys.stderr.flush()
        rows_after = row_counts(self.impl)
        bytes_after = table_bytes(self.impl)
        kinds: dict[str, int] = {}
        redis_before = redis_commands()
        with CaptureQueriesContext(connection) as captured:
            for _ in range(sample):
                self.token = refresh(self.client, self.impl, self.token)
        redis_after = redis_commands()
        for query in captured.captured_queries:
            kind = classify(query["sql"])
            kinds[kind] = kinds.get(kind, 0) + 1
        per_refresh = len(captured.captured_queries) / sample
        writes = sum(kinds.get(k, 0) for k in ("INSERT", "UPDATE", "DELETE")) / sample
        redis_per_refresh = None
        if redis_before is not None:
            redis_per_refresh = (redis_after - redis_before - 1) / sample  # the INFO call counts once
        redis_check = redis_check_cost() if isinstance(self.impl, Ours) and redis_before is not None else None
        return {
            "impl": self.impl.name,
            "vendor": connection.vendor,
            "redis": bool(os.environ.get("REDIS_URL")),
            "refreshes": self.refreshes,
            "rows_after": rows_after,
            "rows_total_after": sum(rows_after.values()),
            "bytes_after": bytes_after,
            "queries_per_refresh": per_refresh,
            "query_kinds_per_refresh": {k: v / sample for k, v in sorted(kinds.items())},
            "writes_per_refresh": writes,
            "redis_commands_per_refresh": redis_per_refresh,
            "redis_check_ms": redis_check,
            # One refresh's statements, for the report (SQL text only, truncated).
            "example_queries": [q["sql"][:160] for q in captured.captured_queries[: round(per_refresh)]],
        }


def serve(impl, args) -> None:
    """JSON lines on stdin: {"run": count, "seconds": s} or {"finish": sample}."""
    chain = Chain(impl, warmup=args.warmup, profile=args.profile)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if "run" in command:
            print(json.dumps(chain.run(int(command["run"]), float(command.get("seconds", 60)))), flush=True)
        elif "finish" in command:
            print(json.dumps(chain.finish(int(command["finish"]))), flush=True)
            return


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["migrate", "serve", "seed"])
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    if args.mode == "migrate":
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        print(json.dumps({"ok": True}))
        return

    impl = Ours() if os.environ["DJANGO_SETTINGS_MODULE"].startswith("config.") else Stock()
    if args.mode == "seed":
        reset(impl)
        user = impl.user()
        print(json.dumps({"tokens": [impl.first_refresh(user) for _ in range(args.count)]}))
        return
    serve(impl, args)


if __name__ == "__main__":
    main()
