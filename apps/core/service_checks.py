"""Can this deploy serve? The checks `manage.py check_services` runs, one per dependency.

Core knows no app, so each app contributes the checks of what it owns with
`service_check_register` in its `ready()` (accounts: the signing keys; mail: SMTP); core's
own (database, migrations, Redis) are registered here. A check returns a short line to print,
None for "not configured" (skip), or raises: `CheckFailed` with a message that is safe to
print, anything else is shown as its class name only. Each has a short timeout
(`TIMEOUT_SECONDS`), so a black-holed dependency fails the step instead of hanging it. Lines
hold fixed words, engine names and exception class names only: never a URL, a host with
credentials, a key or a password (exception messages can echo a DSN, so they are not shown).
"""
from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

TIMEOUT_SECONDS = 5.0

Check = Callable[[], "str | None"]


class CheckFailed(Exception):
    """A check's negative answer, with a message that is safe to print."""


_checks: dict[str, Check] = {}


def service_check_register(name: str, check: Check) -> None:
    """Add a check, run in registration order (app order); the same name again replaces it."""
    _checks[name] = check


def service_checks() -> list[tuple[str, Check]]:
    return list(_checks.items())


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


service_check_register("database", _database)
service_check_register("migrations", _migrations)
service_check_register("redis", _redis)
