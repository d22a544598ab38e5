"""/health (dependencies) and /health/live (the process only), for platforms and ops.

Plain Django views: no authentication, throttling or content negotiation to go wrong, and
nothing here can leak a connection string: only fixed words and exception class names.
"""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
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


# csrf_exempt: read-only, and a POST must get the JSON 405 below, not Django's HTML CSRF 403.
@csrf_exempt
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    """Database and cache status: 200 healthy/degraded, 503 when the database is down."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed()
    cache_up = gateway.ping()
    body = {
        "status": "healthy",
        "database": "connected",
        "cache": "connected" if cache_up else "unavailable",
        "version": settings.VERSION,
        "timestamp": clock.now().isoformat().replace("+00:00", "Z"),
    }
    if not _database_ok():
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
