"""OpenAPI helpers: the shared error body, documented once and referenced by every view."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorOutput(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class ValidationErrorOutput(ErrorOutput):
    # Absent on parse_error; a field's value is a list of messages, or an object of them for
    # nested and list fields (DRF's shape), so the values are left open.
    errors = serializers.DictField(required=False, help_text="Field name -> messages (code `invalid` only).")


_MEANINGS = {
    400: ("invalid: the body failed validation (see `errors`); parse_error: the body is not JSON.", ValidationErrorOutput),
    401: ("token_not_valid, not_authenticated or invalid_credentials.", ErrorOutput),
    403: ("permission_denied, account_inactive, tenant_inactive or module_disabled.", ErrorOutput),
    404: ("not_found or no_tenant.", ErrorOutput),
    429: ("throttled: see the Retry-After header (seconds).", ErrorOutput),
    503: ("service_unavailable: the database is unreachable.", ErrorOutput),
}


def errors(*statuses: int, **overrides: str) -> dict[int, OpenApiResponse]:
    """{status: OpenApiResponse} for the listed statuses, plus 503, which any endpoint that
    touches the database can answer; `overrides` maps "s401" to a text."""
    responses = {}
    for status in (*statuses, 503):
        text, serializer = _MEANINGS[status]
        responses[status] = OpenApiResponse(serializer, description=overrides.get(f"s{status}", text))
    return responses
