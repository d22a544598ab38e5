"""Request id in, X-Request-ID out, one access line per API request, JSON for view errors."""
from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from apps.core import metrics, request_id
from apps.core.exception_handler import json_error_response, wants_json

logger = logging.getLogger("apps.access")


class RequestIdMiddleware:
    """Tags the request (and every log line written while serving it) with an id.

    Outermost middleware, so even responses produced by other middleware carry the header.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        rid = request_id.from_header(request.headers.get("X-Request-ID"))
        request.request_id = rid
        request_id.set_current(rid)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = rid
        if request.path.startswith("/api/"):
            # request.path only: a query string could carry a token.
            logger.info(
                "%s %s %s %.1fms",
                request.method, request.path, response.status_code,
                (time.perf_counter() - started) * 1000,
            )
        return response


class MetricsMiddleware:
    """http_requests_total{view,method,status} and http_request_duration_seconds{view,method}.

    `view` is the URL name (the route, never the raw path, so ids in paths do not multiply
    series); a request no named route matches is `unmatched`. Requests answered before URL
    resolution (health checks, HTTPS redirects) are resolved here to find their name.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view, method = self._view_name(request), metrics.method_label(request.method)
        metrics.http_requests_total.labels(view=view, method=method, status=str(response.status_code)).inc()
        metrics.http_request_duration_seconds.labels(view=view, method=method).observe(elapsed)
        return response

    @staticmethod
    def _view_name(request: HttpRequest) -> str:
        match = getattr(request, "resolver_match", None)
        if match is None:
            return _view_name_of_path(request.path_info, getattr(request, "urlconf", None) or settings.ROOT_URLCONF)
        return match.url_name or metrics.UNMATCHED_VIEW


@functools.lru_cache(maxsize=256)
def _view_name_of_path(path: str, urlconf: str) -> str:
    """The URL name for a request answered before URL resolution (health checks, HTTPS
    redirects). Remembered per URLconf: a load balancer polls the same few paths all day, and
    resolving one walks the URL patterns (~10 us). Bounded, so scanners' random paths cannot
    grow it."""
    try:
        return resolve(path, urlconf).url_name or metrics.UNMATCHED_VIEW
    except Resolver404:
        return metrics.UNMATCHED_VIEW


class JsonErrorMiddleware:
    """Exceptions escaping non-DRF views under /api/ and /health become JSON, even in DEBUG.

    DRF views already answer through the EXCEPTION_HANDLER; this covers plain Django views
    (health checks) and keeps Django's HTML debug page away from API clients.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not wants_json(request):
            return None
        return json_error_response(request, exception)


class HealthCheckMiddleware:
    """Answers /health and /health/live before host validation and the HTTPS redirect.

    Platform health checkers speak plain HTTP to the container and often send its internal
    address as Host, which ALLOWED_HOSTS would reject with 400 (CommonMiddleware calls
    get_host()). The answers hold no per-host data, so skipping that check here is safe.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        from apps.core import health

        self.get_response = get_response
        self.routes = {
            "/health": health.health, "/health/": health.health,
            "/health/live": health.live, "/health/live/": health.live,
        }

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = self.routes.get(request.path_info)
        if view is None:
            return self.get_response(request)
        try:
            return view(request)
        except Exception as exc:  # noqa: BLE001 - the edge: any failure becomes JSON
            return json_error_response(request, exc)
