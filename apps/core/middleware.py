"""Request id in, X-Request-ID out, one access line per API request, JSON for view errors."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import APIException

from apps.core import request_id
from apps.core.exception_handler import convert_exception, error_body, server_error_response, wants_json

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
        converted = convert_exception(exception)
        if isinstance(converted, APIException):
            return JsonResponse(error_body(converted, converted.detail), status=converted.status_code)
        return server_error_response(request, exception)
