"""The /api/tenants/ endpoints: the caller's own tenant only, never another's."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.serializers import MemberCreateInput, UserOutput
from apps.core.client_ip import client_ip
from apps.core.schema import errors
from apps.tenants import selectors, services
from apps.tenants.permissions import HasTenant, IsTenantAdmin
from apps.tenants.serializers import MemberRoleInput, TenantOutput, TenantUpdateInput

TAG = "tenants"
ADMIN_ONLY = [IsAuthenticated, HasTenant, IsTenantAdmin]
NOT_YOURS = "Not found, or another tenant's (a user never sees another tenant's rows)."


def _device(request) -> dict:
    return {"ip": client_ip(request), "user_agent": request.headers.get("User-Agent", "")}


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


class MemberDetailView(APIView):
    """Change the role of, or remove, an admin or member of the caller's tenant."""

    permission_classes = ADMIN_ONLY

    @extend_schema(
        tags=[TAG], request=MemberRoleInput,
        responses={200: UserOutput, **errors(
            400, 401, 403, 404, s403="permission_denied: a member caller, the owner as target, or role `owner`.",
            s404=NOT_YOURS,
        )},
    )
    def patch(self, request, user_id):
        data = MemberRoleInput(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.member_role_change(
            tenant=request.user.tenant, user_id=user_id, role=data.validated_data["role"], **_device(request)
        )
        return Response(UserOutput(member).data)

    @extend_schema(
        tags=[TAG],
        description="The user leaves the tenant (`tenant` and `role` become null); every session of "
        "theirs is revoked and every earlier access token dies at once.",
        responses={204: OpenApiResponse(description="Removed."), **errors(
            401, 403, 404, s403="permission_denied: a member caller, or the owner as target.", s404=NOT_YOURS,
        )},
    )
    def delete(self, request, user_id):
        services.member_remove(tenant=request.user.tenant, user_id=user_id, **_device(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

