"""Django's error handlers: JSON under /api/ and /health, Django's own pages elsewhere."""
from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from apps.core.exception_handler import server_error_body, wants_json


def _json_error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


# csrf_exempt: as the /api/ catch-all, a POST to an unknown path must be a JSON 404, not
# Django's HTML CSRF 403.
@csrf_exempt
def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Also routed as the catch-all under /api/ and /health, so DEBUG's HTML 404 never shows."""
    if wants_json(request):
        return _json_error(404, "Not found.", "not_found")
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return _json_error(400, "Bad request.", "bad_request")
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_json(request):
        return _json_error(403, "You do not have permission to perform this action.", "permission_denied")
    return defaults.permission_denied(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # The exception was already logged by Django's django.request logger, with traceback.
    if wants_json(request):
        return JsonResponse(server_error_body(None), status=500)
    return defaults.server_error(request)
