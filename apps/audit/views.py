"""The two event lists: the caller's own, and their tenant's (owners and admins)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated

from apps.audit import selectors
from apps.audit.pagination import EventCursorPagination
from apps.audit.serializers import EventOutput
from apps.core.schema import errors
from apps.tenants.permissions import HasTenant, IsTenantAdmin


class MyEventListView(ListAPIView):
    """The caller's security events, newest first (cursor paginated, at most 50 a page)."""

    serializer_class = EventOutput
    pagination_class = EventCursorPagination

    def get_queryset(self):
        return selectors.event_list_for_user(user=self.request.user)

    @extend_schema(tags=["auth"], responses={200: EventOutput(many=True), **errors(400, 401)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TenantEventListView(ListAPIView):
    """Security events of every user of the caller's tenant (owners and admins only)."""

    serializer_class = EventOutput
    pagination_class = EventCursorPagination
    permission_classes = [IsAuthenticated, HasTenant, IsTenantAdmin]

    def get_queryset(self):
        return selectors.event_list_for_tenant(tenant_id=self.request.user.tenant_id)

    @extend_schema(tags=["tenants"], responses={200: EventOutput(many=True), **errors(400, 401, 403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
