"""`python manage.py check_services`: can this deploy serve? For a pre-deploy step.

One line per check (`ok`, `FAIL` or `skip`), exit status 1 if any check failed. Each check
has a short timeout so a black-holed dependency fails the step instead of hanging it. Lines
hold fixed words, engine names and exception class names only: never a URL, a host with
credentials, a key or a password (exception messages can echo a DSN, so they are not shown).
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from config.env import is_set

TIMEOUT_SECONDS = 5.0


class CheckFailed(Exception):
    """A check's negative answer, with a message that is safe to print."""


def _database() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return f"reachable ({connection.vendor})"


def _migrations() -> str:
    connection = connections[DEFAULT_DB_ALIAS]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        pending = sorted({f"{m.app_label}.{m.name}" for m, _ in plan})
        shown = ", ".join(pending[:5]) + (" ..." if len(pending) > 5 else "")
        raise CheckFailed(f"{len(pending)} unapplied: {shown} (run manage.py migrate)")
    return "all applied"


def _redis() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS,
    )
    try:
        client.ping()
    finally:
        client.close()
    scheme = settings.REDIS_URL.split(":", 1)[0]
    return f"reachable ({scheme})"


def _keys() -> str:
    missing = [name for name in ("SECRET_KEY", "JWT_SECRET_KEY") if not is_set(name)]
    if missing:
        # In DEBUG the process makes up random keys, which die with it: not deployable.
        raise CheckFailed(f"{' and '.join(missing)} not set")
    if settings.SECRET_KEY == settings.JWT_SECRET_KEY:
        raise CheckFailed("JWT_SECRET_KEY equals SECRET_KEY")
    if not settings.SIMPLE_JWT.get("SIGNING_KEY"):
        raise CheckFailed("no token signing key")
    from apps.accounts.keys import keyring  # keys were parsed and checked at start-up

    ring = keyring()
    previous = sum(1 for key in ring.by_kid.values() if key.jwk is not None) - (ring.access_algorithm != "HS256")
    # kids are public (RFC 7638 thumbprints, or a one-way hash of an HMAC key): safe to print.
    return (f"configured (access tokens {ring.access_algorithm}, kid {ring.access_kid}; "
            f"{previous} previous public key(s), {len(ring.hmac_keys) - 1} HMAC fallback(s))")


def _smtp() -> str | None:
    if not settings.EMAIL_HOST:
        return None
    from django.core.mail import get_connection

    # The backend the app sends with: connect, STARTTLS/SSL and login as configured.
    connection = get_connection(timeout=min(float(settings.EMAIL_TIMEOUT or TIMEOUT_SECONDS), TIMEOUT_SECONDS))
    try:
        connection.open()
    finally:
        connection.close()
    return f"reachable (port {settings.EMAIL_PORT})"


CHECKS: list[tuple[str, Callable[[], str | None]]] = [
    ("database", _database),
    ("migrations", _migrations),
    ("redis", _redis),
    ("keys", _keys),
    ("smtp", _smtp),
]


class Command(BaseCommand):
    help = "Check the database, migrations, Redis, keys and SMTP; exit 1 if any is not ready."

    requires_system_checks: list = []  # the point is to report, not to stop at the first problem

    def handle(self, *args, **options) -> None:
        failed = []
        for name, check in CHECKS:
            try:
                result = check()
            except CheckFailed as exc:
                failed.append(name)
                self.stdout.write(f"FAIL {name}: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - any failure is this check's answer
                failed.append(name)
                # The class name only: driver messages can contain the DSN or the password.
                self.stdout.write(f"FAIL {name}: unreachable ({type(exc).__name__})")
                continue
            if result is None:
                self.stdout.write(f"skip {name}: not configured")
            else:
                self.stdout.write(f"ok   {name}: {result}")
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}")
