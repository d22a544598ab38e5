"""Setup for the harness (bench/harness.py run_worker: `python -m bench._http_worker`), run inside one target's Django settings (a
process of its own: ours and stock are two projects). Prints one JSON object on stdout.

    prepare --email E --password P --tokens N   migrate, make the bench user, print N fresh
                                                refresh tokens (each a session of its own)
    scale --users U --sessions S                bulk-insert U users and S live sessions
                                                (one precomputed password hash), ours only
    explain --token T                           EXPLAIN (ANALYZE, BUFFERS) of every SQL
                                                statement of one `me` and one refresh, and
                                                the table sizes, ours only
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

USER_AGENT = "authsvc-bench/1"
EMAIL_DEFAULT, PASSWORD_DEFAULT = "bench@example.com", "bench-Password-1"
OURS = settings.ROOT_URLCONF == "config.urls"


def ours_user(email: str, password: str):
    from apps.accounts.models import User
    from apps.tenants.models import Tenant

    tenant, _ = Tenant.objects.get_or_create(
        slug="bench", defaults={"name": "Bench", "enabled_modules": ["crm", "billing"]}
    )
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User(email=email, tenant=tenant, role="owner", first_name="Bench", last_name="User")
        user.set_password(password)
        user.save()
    return user


def stock_user(email: str, password: str):
    from django.contrib.auth import get_user_model

    model = get_user_model()
    user = model.objects.filter(username=email).first()
    if user is None:
        user = model(username=email, email=email, first_name="Bench", last_name="User")
        user.set_password(password)  # Django's default hasher: PBKDF2, 1,000,000 iterations
        user.save()
    return user


def prepare(args) -> dict:
    call_command("migrate", verbosity=0, interactive=False)
    if OURS:
        from apps.accounts.services import session_open

        user = ours_user(args.email, args.password)
        tokens = [session_open(user=user, ip="127.0.0.1", user_agent=USER_AGENT).refresh for _ in range(args.tokens)]
    else:
        from rest_framework_simplejwt.tokens import RefreshToken

        user = stock_user(args.email, args.password)
        tokens = [str(RefreshToken.for_user(user)) for _ in range(args.tokens)]
    return {"tokens": tokens}


def scale(args) -> dict:
    """Bulk rows in bounded time: one hash for every user, batches of 5000."""
    import time
    import uuid
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password

    from apps.accounts.models import RefreshSession, User
    from apps.core import clock
    from apps.tenants.models import Tenant

    started = time.monotonic()
    tenant, _ = Tenant.objects.get_or_create(slug="bench", defaults={"name": "Bench", "enabled_modules": ["crm"]})
    digest = make_password(uuid.uuid4().hex)
    have = User.objects.count()
    batch = 5000
    for start in range(have, args.users, batch):
        User.objects.bulk_create(
            [User(email=f"user{i}@scale.example", password=digest, tenant=tenant, role="member")
             for i in range(start, min(start + batch, args.users))],
            batch_size=batch,
        )
    user_ids = list(User.objects.values_list("id", flat=True).order_by("email")[: args.users])
    now = clock.now()
    have = RefreshSession.objects.count()
    for start in range(have, args.sessions, batch):
        RefreshSession.objects.bulk_create(
            [RefreshSession(
                user_id=user_ids[i % len(user_ids)], created_at=now, expires_at=now + timedelta(days=30),
                current_jti=uuid.uuid4().hex, current_issued_at=now, current_expires_at=now + timedelta(days=7),
                last_used_at=now, ip="127.0.0.1", user_agent=USER_AGENT,
            ) for i in range(start, min(start + batch, args.sessions))],
            batch_size=batch,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"users": User.objects.count(), "sessions": RefreshSession.objects.count(),
            "seconds": round(time.monotonic() - started, 1)}


def explain(args) -> dict:
    """The SQL of one `me` and one refresh (through Django's test client, the full stack),
    each statement EXPLAINed on this database afterwards."""
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import RefreshSession, User

    client = Client(HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="127.0.0.1")
    out: dict = {"paths": {}, "tables": {}}
    with CaptureQueriesContext(connection) as refresh_q:
        response = client.post("/api/auth/refresh/", {"refresh": args.token}, content_type="application/json")
    assert response.status_code == 200, response.content
    access = response.json()["access"]
    with CaptureQueriesContext(connection) as me_q:
        response = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.status_code == 200, response.content
    for name, queries in (("me", me_q), ("refresh", refresh_q)):
        plans = []
        for q in queries.captured_queries:
            sql = q["sql"]
            if not sql.lstrip().upper().startswith(("SELECT", "UPDATE", "EXECUTE")):
                plans.append({"sql": sql, "plan": None})
                continue
            statement = None
            if sql.lstrip().upper().startswith("EXECUTE"):  # a server-side prepared statement
                with connection.cursor() as cursor:
                    cursor.execute("SELECT statement FROM pg_prepared_statements WHERE name = %s",
                                   [sql.split()[1].lower()])
                    statement = cursor.fetchone()[0]
            with connection.cursor() as cursor:
                # Inside a rolled-back transaction: EXPLAIN ANALYZE of an UPDATE executes it.
                cursor.execute("BEGIN")
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                cursor.execute("ROLLBACK")
            plans.append({"sql": sql, "prepared_as": statement, "plan": plan})
        out["paths"][name] = plans
    with connection.cursor() as cursor:
        for model in (User, RefreshSession):
            table = model._meta.db_table
            cursor.execute("SELECT count(*), pg_size_pretty(pg_total_relation_size(%s)) FROM " + table, [table])
            rows, size = cursor.fetchone()
            out["tables"][table] = {"rows": rows, "size": size}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--tokens", type=int, default=0)
    s = sub.add_parser("scale")
    s.add_argument("--users", type=int, required=True)
    s.add_argument("--sessions", type=int, required=True)
    e = sub.add_parser("explain")
    e.add_argument("--token", required=True)
    args = parser.parse_args()
    result = {"prepare": prepare, "scale": scale, "explain": explain}[args.mode](args)
    sys.stdout.write(json.dumps(result, default=str) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    main()
