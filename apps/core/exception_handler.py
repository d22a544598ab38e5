"""Renders every error under /api/ and /health as JSON: {"detail", "code"} and extras.

Library exceptions are converted at this edge: simplejwt's nested token errors become a flat
token_not_valid, a lost database connection becomes 503 service_unavailable, anything
unexpected becomes a generic 500 whose traceback goes to error.log only.
"""
from __future__ import annotations

import logging
import traceback
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from apps.core import request_id
from apps.core.exceptions import SERVER_ERROR_CODE, SERVER_ERROR_DETAIL, ApiError, ServiceUnavailable
from apps.core.logging import redact

logger = logging.getLogger(__name__)

JSON_PATH_PREFIXES = ("/api/", "/health", "/.well-known/")


class RequestTooLarge(ApiError):
    status_code = 413
    default_detail = "Request body too large."
    default_code = "request_too_large"


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES)


def convert_exception(exc: Exception) -> Exception:
    """Map foreign exceptions onto our vocabulary; unknown ones pass through."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        logger.error("Database unavailable: %s", type(exc).__name__, exc_info=exc)
        return ServiceUnavailable("The database is unavailable. Try again shortly.")
    if isinstance(exc, RequestDataTooBig):
        return RequestTooLarge()
    if isinstance(exc, SuspiciousOperation):
        logger.warning("Suspicious request rejected: %s", type(exc).__name__)
        return ApiError("Bad request.")
    return exc


def error_body(exc: drf_exceptions.APIException, data: Any) -> dict[str, Any]:
    if isinstance(exc, drf_exceptions.ValidationError):
        errors = data if isinstance(data, dict) else {"non_field_errors": data}
        return {"detail": _first_message(errors) or "Invalid input.", "code": "invalid", "errors": errors}
    detail = exc.detail
    if isinstance(detail, dict):  # simplejwt: {"detail": ..., "code": ..., "messages": [...]}
        message = str(detail.get("detail", exc.default_detail))
        code = str(detail.get("code", getattr(detail.get("detail"), "code", exc.default_code)))
    elif isinstance(detail, list):
        message = " ".join(str(d) for d in detail)
        code = str(getattr(detail[0], "code", exc.default_code)) if detail else exc.default_code
    else:
        message = str(detail)
        code = str(getattr(detail, "code", None) or exc.default_code)
    return {"detail": message, "code": code}


def _first_message(errors: Any) -> str | None:
    """The first human message in a nested error structure, for `detail`."""
    if isinstance(errors, dict):
        for field, value in errors.items():
            message = _first_message(value)
            if message:
                return message if field == "non_field_errors" else f"{field}: {message}"
    elif isinstance(errors, list):
        for value in errors:
            message = _first_message(value)
            if message:
                return message
    elif errors:
        return str(errors)
    return None


def server_error_body(exc: BaseException | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "detail": SERVER_ERROR_DETAIL,
        "code": SERVER_ERROR_CODE,
        "request_id": request_id.get() or "-",
    }
    if settings.DEBUG_ERRORS and exc is not None:
        body["exception"] = redact(f"{type(exc).__name__}: {exc}")
        body["traceback"] = redact("".join(traceback.format_exception(exc)))
    return body


def server_error_response(request: HttpRequest, exc: BaseException | None) -> JsonResponse:
    """Log the traceback (always) and answer a generic JSON 500."""
    logger.error(
        "Unhandled %s on %s %s", type(exc).__name__ if exc else "error", request.method, request.path,
        exc_info=exc,
    )
    response = JsonResponse(server_error_body(exc), status=500)
    response._has_been_logged = True  # we logged it with the traceback; Django need not repeat it
    return response


def json_error_response(request: HttpRequest, exc: Exception) -> JsonResponse:
    """The JSON answer for an exception that escaped a plain Django view or middleware."""
    converted = convert_exception(exc)
    if isinstance(converted, drf_exceptions.APIException):
        return JsonResponse(error_body(converted, converted.detail), status=converted.status_code)
    return server_error_response(request, exc)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | JsonResponse:
    """DRF EXCEPTION_HANDLER: every error becomes {"detail", "code"} (+ "errors" for 400s)."""
    exc = convert_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return server_error_response(context["request"], exc)
    response.data = error_body(exc, response.data)
    return response
