"""The caller's own event list. Their tenant's (owners and admins) is apps/tenants/views.py:
audit imports only core, so every app may record events."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView

from apps.audit import selectors
from apps.audit.pagination import EventCursorPagination
from apps.audit.serializers import EventOutput
from apps.core.schema import errors


class MyEventListView(ListAPIView):
    """The caller's security events, newest first (cursor paginated, at most 50 a page)."""

    serializer_class = EventOutput
    pagination_class = EventCursorPagination

    def get_queryset(self):
        return selectors.event_list_for_user(user=self.request.user)

    @extend_schema(tags=["auth"], responses={200: EventOutput(many=True), **errors(400, 401)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
