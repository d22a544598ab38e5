"""Cursor pagination for event lists: stable under inserts (a new event never shifts a page,
as it would with offsets), at most 50 a page, `{"results": [...], "next": url|null}`."""
from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from apps.audit.models import SecurityEvent
from apps.audit.selectors import ORDERING
from apps.core.exceptions import InvalidInput

_POSITION_FIELD = SecurityEvent._meta.get_field(ORDERING[0].lstrip("-"))


class EventCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 50
    # created_at places the cursor; id breaks ties between events of the same instant (DRF
    # adds an offset within equal created_at values, and the order within them is fixed).
    ordering = ORDERING

    def decode_cursor(self, request):
        """A tampered or truncated cursor is bad input (400 invalid), not a missing page
        (DRF answers 404 "Invalid cursor").

        DRF decodes the cursor leniently (base64 of "o=&r=&p=") and hands its position to the
        database as it is: a position that is not a `created_at` value ("p=x") made
        PostgreSQL fail the query (500). We only ever issue positions that are timestamps."""
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise InvalidInput({"cursor": ["Invalid cursor."]}) from exc
        if cursor is not None and cursor.position is not None:
            try:
                position = _POSITION_FIELD.to_python(cursor.position)
            except (DjangoValidationError, ValueError, OverflowError) as exc:
                raise InvalidInput({"cursor": ["Invalid cursor."]}) from exc
            if position is None:
                raise InvalidInput({"cursor": ["Invalid cursor."]})
        return cursor

    def get_paginated_response(self, data):
        return Response({"results": data, "next": self.get_next_link()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
            },
        }
