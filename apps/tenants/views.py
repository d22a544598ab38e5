"""The /api/tenants/ endpoints: the caller's own tenant only, never another's; and
/api/auth/register/, because sign-up may create a tenant (services/registration.py)."""
from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import throttles as accounts_throttles
from apps.accounts import transport
from apps.accounts.serializers import AuthOutput, MemberCreateInput, RegisterInput, UserOutput, user_output
from apps.accounts.services import session_open
from apps.accounts.views import CSRF_403, PAIR_PARAMETERS, PublicView
from apps.audit import selectors as audit_selectors
from apps.audit.pagination import EventCursorPagination
from apps.audit.serializers import EventOutput
from apps.core.device import request_device
from apps.core.schema import ErrorOutput, errors
from apps.tenants import selectors, services, throttles
from apps.tenants.permissions import HasTenant, IsTenantAdmin
from apps.tenants.serializers import (
    InvitationAcceptInput,
    InvitationCreateInput,
    InvitationOutput,
    MemberRoleInput,
    TenantOutput,
    TenantUpdateInput,
)

TAG = "tenants"
ADMIN_ONLY = [IsAuthenticated, HasTenant, IsTenantAdmin]
NOT_YOURS = "Not found, or another tenant's (a user never sees another tenant's rows)."


class RegisterView(PublicView):
    """Create an account (and, with tenant_name, a tenant it owns); returns tokens."""

    throttle_classes = [accounts_throttles.RegisterThrottle]

    @extend_schema(
        tags=["auth"], request=RegisterInput, parameters=PAIR_PARAMETERS,
        responses={201: OpenApiResponse(AuthOutput, description=(
            "`{user, access, refresh}`; with EMAIL_VERIFICATION=mandatory only `{user}` (no "
            "tokens until the address is verified). A verification email is sent either way."
        )), **errors(400, 403, 429, s403=CSRF_403)},
    )
    def post(self, request):
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        if settings.EMAIL_VERIFICATION == "mandatory":
            return Response({"user": user_output(user)}, status=status.HTTP_201_CREATED)
        pair = session_open(user=user, **request_device(request))
        return transport.pair_response(request, {"user": user_output(user), **pair.body()}, status=status.HTTP_201_CREATED)


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
            tenant=request.user.tenant, user_id=user_id, role=data.validated_data["role"], actor=request.user,
            **request_device(request),
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
        services.member_remove(
            tenant=request.user.tenant, user_id=user_id, actor=request.user, **request_device(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationsView(APIView):
    """Invite someone by email, or list the tenant's pending invitations (owners and admins)."""

    permission_classes = ADMIN_ONLY

    def get_throttles(self):
        if self.request.method != "POST":
            return []
        return [
            throttles.InvitationSendThrottle(), throttles.InvitationSendTenantThrottle(),
            throttles.InvitationSendUnverifiedThrottle(),
        ]

    @extend_schema(tags=[TAG], responses={200: InvitationOutput(many=True), **errors(401, 403, 404)})
    def get(self, request):
        return Response(InvitationOutput(selectors.invitation_list_pending(tenant=request.user.tenant), many=True).data)

    @extend_schema(
        tags=[TAG], request=InvitationCreateInput,
        description="Sends an email with `INVITE_ACCEPT_URL`, `{token}` filled in. 400 `invalid` when the "
        "email already has an account in a tenant or a pending invitation to this tenant.",
        responses={201: InvitationOutput, **errors(
            400, 401, 403, 404, 429, s403="permission_denied: a member caller, or role `owner`.",
        )},
    )
    def post(self, request):
        data = InvitationCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.invitation_create(
            tenant=request.user.tenant, invited_by=request.user, **data.validated_data, **request_device(request)
        )
        return Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailView(APIView):
    """Delete a pending invitation: its link stops working at once."""

    permission_classes = ADMIN_ONLY

    @extend_schema(tags=[TAG], responses={204: OpenApiResponse(description="Deleted."), **errors(401, 403, 404, s404=NOT_YOURS)})
    def delete(self, request, invitation_id):
        services.invitation_revoke(tenant=request.user.tenant, invitation_id=invitation_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptView(APIView):
    """Accept an invitation: as a new account (token + password), or, with the Bearer token
    of the invited address's account, as that account."""

    permission_classes = [AllowAny]
    throttle_classes = [throttles.InvitationAcceptThrottle]

    @extend_schema(
        tags=[TAG], request=InvitationAcceptInput,
        description="Without a Bearer token: creates the account (201, `{user, access, refresh}`, "
        "`email_verified` true). With the Bearer token of the invited address's account, which has no "
        "tenant: 200 `user`, now in the tenant. 400 `invalid_token`: used, expired, deleted or unknown "
        "token; 400 `invalid`: an account with that email exists and the caller is not logged in as it; "
        "409 `already_in_tenant`. The new-account answer supports the cookie transport as register does.",
        parameters=[transport.TRANSPORT_PARAMETER, transport.set_cookie_header(201)],
        responses={
            201: AuthOutput, 200: UserOutput,
            409: OpenApiResponse(ErrorOutput, description="already_in_tenant: the account already belongs to a tenant."),
            **errors(400, 401, 403, 429, s400="invalid_token: used, expired, deleted or unknown token; "
                     "invalid: see `errors`.", s403="tenant_inactive: the inviting tenant is deactivated; csrf_failed: "
                     "cookie transport without a valid CSRF token and Origin."),
        },
    )
    def post(self, request):
        data = InvitationAcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        if request.user.is_authenticated:
            user = services.invitation_accept_existing_account(token=fields["token"], user=request.user, **request_device(request))
            return Response(UserOutput(user).data)
        user = services.invitation_accept_new_account(**fields, **request_device(request))
        pair = session_open(user=user, **request_device(request))
        return transport.pair_response(request, {"user": user_output(user), **pair.body()}, status=status.HTTP_201_CREATED)


class TenantEventListView(ListAPIView):
    """Security events of every user of the caller's tenant (owners and admins only)."""

    serializer_class = EventOutput
    pagination_class = EventCursorPagination
    permission_classes = [IsAuthenticated, HasTenant, IsTenantAdmin]

    def get_queryset(self):
        return audit_selectors.event_list_for_tenant(tenant_id=self.request.user.tenant_id)

    @extend_schema(tags=["tenants"], responses={200: EventOutput(many=True), **errors(400, 401, 403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
