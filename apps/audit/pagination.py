"""Cursor pagination for event lists: stable under inserts (a new event never shifts a page,
as it would with offsets), at most 50 a page, `{"results": [...], "next": url|null}`."""
from __future__ import annotations

from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

from apps.audit.selectors import ORDERING


class EventCursorPagination(CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 50
    # created_at places the cursor; id breaks ties between events of the same instant (DRF
    # adds an offset within equal created_at values, and the order within them is fixed).
    ordering = ORDERING

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
