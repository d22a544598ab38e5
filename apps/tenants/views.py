"""The /api/tenants/ endpoints: the caller's own tenant only, never another's."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.serializers import MemberCreateInput, UserOutput
from apps.core.schema import errors
from apps.tenants import selectors, services
from apps.tenants.permissions import HasTenant, IsTenantAdmin
from apps.tenants.serializers import TenantOutput, TenantUpdateInput

TAG = "tenants"


class CurrentTenantView(APIView):
    """The caller's tenant; owners and admins may rename it and set its modules."""

    def get_permissions(self):
        extra = [IsTenantAdmin()] if self.request.method == "PATCH" else []
        return [IsAuthenticated(), HasTenant(), *extra]

    @extend_schema(tags=[TAG], responses={200: TenantOutput, **errors(401, 404)})
    def get(self, request):
        return Response(TenantOutput(request.user.tenant).data)

    @extend_schema(tags=[TAG], request=TenantUpdateInput, responses={200: TenantOutput, **errors(400, 401, 403, 404)})
    def patch(self, request):
        data = TenantUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        tenant = services.tenant_update(tenant=request.user.tenant, **data.validated_data)
        return Response(TenantOutput(tenant).data)


class MembersView(APIView):
    """List or add members of the caller's tenant (owners and admins only)."""

    permission_classes = [IsAuthenticated, HasTenant, IsTenantAdmin]

    @extend_schema(tags=[TAG], responses={200: UserOutput(many=True), **errors(401, 403, 404)})
    def get(self, request):
        return Response(UserOutput(selectors.member_list(tenant=request.user.tenant), many=True).data)

    @extend_schema(tags=[TAG], request=MemberCreateInput, responses={201: UserOutput, **errors(400, 401, 403, 404)})
    def post(self, request):
        data = MemberCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.member_create(tenant=request.user.tenant, **data.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)
