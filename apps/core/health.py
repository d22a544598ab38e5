"""/health (dependencies) and /health/live (the process only), for platforms and ops.

Plain Django views: no authentication, throttling or content negotiation to go wrong, and
nothing here can leak a connection string: only fixed words and exception class names.
"""
from __future__ import annotations

import functools
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt

from apps.core import clock
from apps.core.cache import gateway

logger = logging.getLogger(__name__)


def _method_not_allowed() -> JsonResponse:
    response = JsonResponse(
        {"detail": "Method not allowed.", "code": "method_not_allowed"}, status=405
    )
    response["Allow"] = "GET, HEAD"
    return response


def _select_one() -> None:
    connection.ensure_connection()
    # Our SELECT 1 *is* the connection check: without this, Django's CONN_HEALTH_CHECKS would
    # send a SELECT 1 of its own first (two round trips for one answer). A persistent
    # connection found dead is what that check would have caught: _database_ok reconnects
    # once, as Django would have.
    connection.health_check_done = True
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _database_ok() -> bool:
    for attempt in (1, 2):
        try:
            _select_one()
            return True
        except DatabaseError as exc:
            # A half-open or dead connection must not be reused (by the retry, or the next request).
            connection.close()
            if attempt == 2:
                logger.error("Health check: database unavailable (%s)", type(exc).__name__)
    return False


@dataclass(frozen=True)
class Probe:
    """What the dependencies answered, and when (`timestamp` in the body is `checked_at`)."""

    database_ok: bool
    cache_up: bool
    checked_at: datetime
    monotonic: float


_last_probe: Probe | None = None


def reset() -> None:
    """Forget the last probe (tests; the next /health asks the dependencies again)."""
    global _last_probe
    _last_probe = None


def probe() -> Probe:
    """The dependencies' status, asked at most once per HEALTH_CHECK_CACHE_SECONDS per process.

    A probe is a database and a Redis round trip (and the work of both servers): most of what
    /health costs. Health checkers, load balancers and uptime monitors poll it many times a
    second across an instance's workers, so each worker reuses its last answer for up to
    HEALTH_CHECK_CACHE_SECONDS (default 1 s; 0 asks on every request). A failure is kept as
    long as a success, which also spares a struggling database a connection attempt per
    check. Racing threads may both probe: harmless, the last one wins.
    """
    global _last_probe
    ttl = settings.HEALTH_CHECK_CACHE_SECONDS
    last = _last_probe
    if last is not None and ttl > 0 and time.monotonic() - last.monotonic < ttl:
        return last
    cache_up = gateway.ping()
    database_ok = _database_ok()
    _last_probe = Probe(database_ok=database_ok, cache_up=cache_up, checked_at=clock.now(), monotonic=time.monotonic())
    return _last_probe


# Exactly the headers django.views.decorators.cache.never_cache sets, written directly: its
# generic patching (parse Cache-Control, merge, re-join, twice) cost ~15 us, 4 % of a /health.
_NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def never_cache(view):
    @functools.wraps(view)
    def uncached(request: HttpRequest) -> JsonResponse:
        response = view(request)
        response["Expires"] = http_date()
        response["Cache-Control"] = _NEVER_CACHE
        return response

    return uncached


# csrf_exempt: read-only, and a POST must get the JSON 405 below, not Django's HTML CSRF 403.
@csrf_exempt
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Database and cache status: 200 healthy/degraded, 503 when the database is down."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed()
    status = probe()
    cache_up = status.cache_up
    body = {
        "status": "healthy",
        "database": "connected",
        "cache": "connected" if cache_up else "unavailable",
        "version": settings.VERSION,
        "timestamp": status.checked_at.isoformat().replace("+00:00", "Z"),
    }
    if not status.database_ok:
        body.update(
            status="unhealthy",
            database="unavailable",
            detail="The database is unavailable.",
            code="service_unavailable",
        )
        return JsonResponse(body, status=503)
    if gateway.configured and not cache_up:
        body["status"] = "degraded"
    return JsonResponse(body)


@csrf_exempt
@never_cache
def live(request: HttpRequest) -> JsonResponse:
    """Liveness: answers while the process serves requests; touches no dependency."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed()
    return JsonResponse({"status": "alive"})
