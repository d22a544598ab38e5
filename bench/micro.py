"""In-process micro-benchmarks on pyperf: password hashing, signing keys, the refresh.

    .venv/bin/python -m bench.micro hashing --fast      # from the repository root
    .venv/bin/python -m bench.micro signing --fast
    .venv/bin/python -m bench.micro refresh --fast
    .venv/bin/python -m bench.micro -o bench/results/micro.json   # all; pyperf's full run
    .venv/bin/python -m pyperf compare_to old.json new.json      # what changed

pyperf runs each benchmark in fresh worker processes, calibrates the loop count, drops
warm-ups and reports mean +- std dev (and, with -o, every value for `compare_to`). Groups:

  hashing  one password check (hasher.verify, what a login waits for): ours
           (OwaspArgon2PasswordHasher, argon2id m=19 MiB t=2 p=1), Django's default Argon2
           (m=100 MiB p=8) and PBKDF2 (1,000,000 iterations)
  signing  per algorithm (HS256, EdDSA, ES256, RS256): minting an access token, and our full
           decode path (TenantAccessToken: kid lookup, signature, exp/iss/aud) twice: a token
           seen before (keys' verified-token cache answers) and one never seen (the cache is
           emptied before each check, so the signature is verified)
  refresh  one POST /api/auth/refresh/ through Django's test client (every middleware, the
           view, the rotation; test settings, a scratch SQLite file, Redis off), chained:
           every request spends the token the previous one returned. The SQL statements of one
           refresh are printed once (`statements per refresh`).

`me` and the HTTP costs of these (wrk, gunicorn, PostgreSQL) are bench/compare.py's scenarios.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from datetime import UTC, datetime

import pyperf

GROUPS = ("hashing", "signing", "refresh")
ALGORITHMS = ("HS256", "EdDSA", "ES256", "RS256")
PASSWORD = "bench-Password-1"


def setup_django(database: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["LOG_DIR"] = os.path.dirname(database)
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def hashing(runner: pyperf.Runner) -> None:
    from django.contrib.auth.hashers import Argon2PasswordHasher, PBKDF2PasswordHasher

    from apps.accounts.hashers import OwaspArgon2PasswordHasher

    for name, hasher in (("ours OwaspArgon2", OwaspArgon2PasswordHasher()),
                         ("Django Argon2 default", Argon2PasswordHasher()),
                         ("Django PBKDF2 default", PBKDF2PasswordHasher())):
        encoded = hasher.encode(PASSWORD, hasher.salt())
        runner.bench_func(f"hashing: {name} check", hasher.verify, PASSWORD, encoded)


def signing(runner: pyperf.Runner, keydir: str) -> None:
    from django.test.utils import override_settings

    from apps.accounts import keys, tokens

    class User:  # what mint_access reads; no database needed
        id = uuid.uuid4()
        email = "bench@example.com"
        tenant_id = None
        tenant = None
        tokens_valid_after = None

    now = datetime.now(tz=UTC)
    for alg in ALGORITHMS:
        private = ""
        if alg != "HS256":  # made once, beside the scratch database: a worker process runs only one benchmark
            pem = os.path.join(keydir, f"{alg}.pem")
            if not os.path.exists(pem):
                with open(pem, "w") as f:
                    f.write(keys.private_pem(keys.generate_private_key(alg)))
            with open(pem) as f:
                private = f.read()
        with override_settings(JWT_ALGORITHM=alg, JWT_PRIVATE_KEY=private):
            keys.keyring()  # keys parsed outside the timed loops
            raw = tokens.mint_access(user=User, session_id=uuid.uuid4(), now=now)
            runner.bench_func(f"signing: {alg} sign", lambda: tokens.mint_access(user=User, session_id=uuid.uuid4(), now=now))
            runner.bench_func(f"signing: {alg} verify, cached", tokens.TenantAccessToken, raw)

            def first_sight(loops: int, raw: str = raw) -> float:
                clear = keys._verified_access.cache_clear  # what a token never seen by this process costs
                started = pyperf.perf_counter()
                for _ in range(loops):
                    clear()
                    tokens.TenantAccessToken(raw)
                return pyperf.perf_counter() - started

            runner.bench_time_func(f"signing: {alg} verify, first sight", first_sight)


def refresh(runner: pyperf.Runner, *, worker: bool) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench._http_worker import ours_user

    email = f"micro-{os.getpid()}@example.com"
    if not worker:  # the parent prepares the database every worker process uses
        call_command("migrate", verbosity=0, interactive=False)
    ours_user(email, PASSWORD)
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    state = {"refresh": client.post("/api/auth/login/", {"email": email, "password": PASSWORD},
                                    content_type="application/json").json()["refresh"]}

    def one() -> None:
        response = client.post("/api/auth/refresh/", {"refresh": state["refresh"]}, content_type="application/json")
        assert response.status_code == 200, response.content
        state["refresh"] = response.json()["refresh"]

    if not worker:
        with CaptureQueriesContext(connection) as queries:
            one()
        kinds = [q["sql"].split()[0].upper() for q in queries.captured_queries]
        print(f"statements per refresh: {len(kinds)} ({', '.join(sorted(set(kinds)))})", flush=True)

    def loops(n: int) -> float:
        started = pyperf.perf_counter()
        for _ in range(n):
            one()
        return pyperf.perf_counter() - started

    runner.bench_time_func("refresh: in-process POST /api/auth/refresh/", loops)


def main() -> None:
    def pass_args(cmd: list[str], args) -> None:
        cmd.extend(["--db", args.db, *args.groups])

    runner = pyperf.Runner(add_cmdline_args=pass_args, program_args=("-m", "bench.micro"))
    runner.argparser.add_argument("groups", nargs="*", help=f"any of {', '.join(GROUPS)} (default: all)")
    runner.argparser.add_argument("--db", default="", help=argparse.SUPPRESS)
    args = runner.parse_args()
    if set(args.groups) - set(GROUPS):
        runner.argparser.error(f"groups: any of {', '.join(GROUPS)}")
    tmp = None
    if not args.db:
        tmp = tempfile.mkdtemp(prefix="authsvc-micro-")
        args.db = os.path.join(tmp, "db.sqlite3")
    try:
        setup_django(args.db)
        groups = args.groups or GROUPS
        if "hashing" in groups:
            hashing(runner)
        if "signing" in groups:
            signing(runner, os.path.dirname(args.db))
        if "refresh" in groups:
            refresh(runner, worker=bool(args.worker))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
